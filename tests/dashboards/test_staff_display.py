"""Staff pages at desktop (1400 px) and phone (390 px): 收件箱, 订阅设置, steps by role, search that
explains an empty result, alert messages without a doubled 已."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.alerts.receiver import Receiver
from tests.dashboards.conftest import ASSOCIATION_STAFF, CONSUMER_STAFF, ConsoleLog, LiveSite, log_in

pytestmark = pytest.mark.browser

WIDTHS = [pytest.param(1400, id="desktop"), pytest.param(390, id="phone")]


@pytest.fixture(params=WIDTHS)
def width(request: pytest.FixtureRequest, page: Page) -> int:
    size: int = request.param
    page.set_viewport_size({"width": size, "height": 900})
    return size


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def _unread(page: Page) -> int:
    match = re.search(r"未读 (\d+) 条", page.locator("#summary").inner_text())
    assert match
    return int(match.group(1))


def test_association_lands_on_its_inbox_and_reading_updates_the_counts(
    page: Page, live_site: LiveSite, console: ConsoleLog, width: int
) -> None:
    log_in(page, ASSOCIATION_STAFF, live_site.password)
    expect(page).to_have_url(re.compile(r"/staff/inbox$"))
    expect(page.locator("#summary")).to_contain_text("未读")
    before = _unread(page)
    assert before > 0
    badge = page.locator("#unread-badge")
    expect(badge).to_have_text(f"{before} 未读")
    item_id = page.locator("article.inbox-item.unread").first.get_attribute("data-item-id")
    item = page.locator(f"article.inbox-item[data-item-id='{item_id}']")
    item.locator("h2 button.link").click()
    expect(item.locator("pre.message-body")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text(f"未读 {before - 1} 条")
    expect(badge).to_have_text(f"{before - 1} 未读")
    expect(item.locator(".badge.unread")).to_have_count(0)
    page.get_by_label("类型").select_option("complaint")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("article.inbox-item").first).to_contain_text("投诉转办")
    assert console.errors == []


def test_subscription_is_created_once_tested_and_its_secret_rotated(
    page: Page, live_site: LiveSite, console: ConsoleLog, receiver: Receiver, width: int
) -> None:
    log_in(page, ASSOCIATION_STAFF, live_site.password)
    page.goto("/staff/subscriptions")
    name = f"肉蛋菜预警 {width}"
    page.get_by_label("名称").fill(name)
    page.locator("#channels").get_by_label("Webhook").check()
    page.get_by_label("Webhook 地址").fill(receiver.url)
    page.get_by_role("button", name="保存订阅").dblclick()
    expect(page.locator("#message")).to_have_text("订阅已创建。")
    secret = page.locator("#secret").inner_text()
    assert len(secret) >= 32
    card = page.locator("article.subscription", has_text=name)
    expect(card).to_have_count(1)
    receiver.secret = secret
    card.get_by_role("button", name="发送测试").click()
    expect(card.locator(".test-results")).to_contain_text("测试消息已送达")
    assert [document["type"] for document in receiver.documents.values()] == ["test"]

    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="更换密钥").click()
    expect(page.locator("#message")).to_have_text("密钥已更换。")
    assert page.locator("#secret").inner_text() not in ("", secret)
    card.get_by_role("button", name="发送测试").click()
    expect(card.locator(".test-results")).to_contain_text("发送失败")

    card.get_by_role("button", name="编辑").click()
    page.get_by_label("最低级别").select_option("high")
    page.get_by_role("button", name="保存订阅").click()
    expect(page.locator("#message")).to_have_text("订阅已保存。")
    expect(page.locator("article.subscription", has_text=name)).to_contain_text("高")
    assert console.errors == []


def test_steps_are_offered_only_to_the_role_that_may_take_them(
    page: Page, live_site: LiveSite, console: ConsoleLog, width: int
) -> None:
    log_in(page, ASSOCIATION_STAFF, live_site.password)
    page.goto("/staff/routed")
    page.locator("#complaints tbody tr", has_text="已受理登记").first.locator("a").first.click()
    expect(page.locator("#c-facts")).to_contain_text("转交协会")
    expect(page.locator("#c-facts")).to_contain_text("协会")
    expect(page.locator("#transition")).to_be_hidden()
    expect(page.locator("#no-steps")).to_contain_text("下一步由消费者协会办理")
    assert console.errors == []


def test_search_says_why_nothing_matched(
    page: Page, live_site: LiveSite, console: ConsoleLog, width: int
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/complaints")
    expect(page.locator("#summary")).to_contain_text("共")
    page.get_by_text("检索帮助").click()
    expect(page.locator(".search-help")).to_contain_text("同义词")
    page.get_by_label("金额下限（元）").fill("500")
    page.get_by_label("金额上限（元）").fill("100")
    page.get_by_role("button", name="检索").click()
    expect(page.locator("#message")).to_contain_text("金额下限 500 元大于上限 100 元")
    page.get_by_label("金额下限（元）").fill("")
    page.get_by_label("金额上限（元）").fill("")
    page.get_by_label("起始日期").fill("2026-05-01")
    page.get_by_label("截止日期").fill("2026-04-01")
    page.get_by_role("button", name="检索").click()
    expect(page.locator("#message")).to_contain_text("起始日期 2026-05-01 晚于截止日期 2026-04-01")
    page.get_by_label("起始日期").fill("")
    page.get_by_label("截止日期").fill("")
    page.get_by_label("关键词").fill("火星陨石")
    page.get_by_role("button", name="检索").click()
    expect(page.locator("#hits")).to_contain_text("当前条件：关键词“火星陨石”")
    assert [error for error in console.errors if "422" not in error] == []


def test_alert_step_message_reads_once(
    page: Page, live_site: LiveSite, console: ConsoleLog, width: int
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/alerts")
    card = page.locator("article.alert-card[data-status=open]").first
    expect(card).to_be_visible()
    card.get_by_role("button", name="知悉").click()
    expect(page.locator("#message")).to_contain_text("：已知悉")
    assert "已已" not in page.locator("#message").inner_text()
    assert console.errors == []


def test_search_highlights_stay_on_the_word_after_an_emoji(
    page: Page, live_site: LiveSite, console: ConsoleLog, width: int
) -> None:
    filed = httpx.post(
        f"{live_site.base_url}/api/complaints",
        json={"text": "😡😡 这家店的榴莲标价每斤三十元，结账按五十元收，多收钱。", "title": "😡榴莲多收钱"},
    )
    filed.raise_for_status()
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/complaints?q=榴莲&sort=date")
    marks = page.locator("#hits article").first.locator("mark")
    expect(marks.first).to_be_visible()
    assert set(marks.all_inner_texts()) == {"榴莲"}
    assert console.errors == []


def test_pages_a_role_may_not_use_are_not_offered_in_the_menu(
    page: Page, live_site: LiveSite, console: ConsoleLog, width: int
) -> None:
    log_in(page, ASSOCIATION_STAFF, live_site.password)
    expect(page).to_have_url(re.compile(r"/staff/inbox$"))
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="收件箱")).to_be_visible()
    expect(nav.get_by_role("link", name="待归类商品")).to_be_hidden()
    page.locator("#logout").click()
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/complaints")
    expect(nav.get_by_role("link", name="待归类商品")).to_be_visible()
    assert console.errors == []
