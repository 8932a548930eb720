"""Staff pages in a real browser: login, faceted complaint search, a complaint's workflow, alert inbox."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import Page, expect

from search.backends import fts5
from tests.dashboards.conftest import ASSOCIATION_STAFF, CONSUMER_STAFF, ConsoleLog, LiveSite, log_in

pytestmark = pytest.mark.browser


def result_count(page: Page) -> int:
    text = page.locator("#summary").inner_text()
    match = re.search(r"共 ([\d,]+) 件", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def test_staff_pages_send_a_signed_out_visitor_to_login_and_back(
    page: Page, live_site: LiveSite, console: ConsoleLog
) -> None:
    page.goto("/staff/crawls")
    page.wait_for_url("**/staff/login?next=*")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")
    page.get_by_label("用户名").fill(CONSUMER_STAFF)
    page.get_by_label("密码").fill(live_site.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/staff/crawls$"))
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/staff/login")
    page.goto("/staff/jobs")
    page.wait_for_url("**/staff/login?next=*")
    assert console.errors == []


def test_wrong_password_is_refused_with_a_message(page: Page, live_site: LiveSite) -> None:
    page.goto("/staff/login")
    page.get_by_label("用户名").fill(CONSUMER_STAFF)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#message")).to_have_text("用户名或密码错误。")
    assert "/staff/login" in page.url


def test_search_narrows_by_a_facet_and_keeps_it_in_the_url(
    page: Page, live_site: LiveSite, console: ConsoleLog
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/complaints")
    expect(page.locator("#summary")).to_contain_text("共")
    everything = result_count(page)
    page.get_by_label("关键词").fill("价格")
    page.get_by_role("button", name="检索").click()
    expect(page.locator("#hits mark").first).to_be_visible()
    matching = result_count(page)
    assert 0 < matching <= everything
    facet = page.locator("#facets fieldset", has_text="行业").locator("label").first
    expected = int(facet.locator(".count").inner_text())
    facet.locator("input").check()
    expect(page.locator("#summary")).to_contain_text(f"共 {expected} 件")
    assert expected < matching
    assert "industry=" in page.url
    page.reload()
    expect(page.locator("#summary")).to_contain_text(f"共 {expected} 件")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    lines = download.value.path().read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(lines) == expected + 1
    page.get_by_label("金额下限（元）").fill("100000000")
    page.get_by_role("button", name="检索").click()
    expect(page.locator("#summary")).to_contain_text("共 0 件")
    expect(page.locator("#hits")).to_contain_text("没有符合条件的投诉")
    assert console.errors == []


def test_search_says_when_counts_cover_only_the_newest_matches(
    page: Page, live_site: LiveSite, console: ConsoleLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More matches than FTS5 samples: the page says facets and relevance look at the newest only,
    and that a filtered total is a lower bound."""
    monkeypatch.setattr(fts5, "SAMPLE_LIMIT", 20)
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/complaints")
    page.get_by_label("关键词").fill("价格")
    page.get_by_role("button", name="检索").click()
    expect(page.locator("#summary")).to_contain_text("只看最新的 20 件")
    assert result_count(page) > 20
    page.locator("#facets fieldset", has_text="行业").locator("label").first.locator("input").check()
    expect(page.locator("#summary")).to_contain_text("至少")
    assert console.errors == []


def test_complaint_page_runs_a_workflow_step(page: Page, live_site: LiveSite, console: ConsoleLog) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/complaints?status=received&sort=date")
    page.locator("#hits article h3 a").first.click()
    expect(page.locator("#c-facts")).to_contain_text("已受理登记")
    steps = page.locator("#timeline li").count()
    page.get_by_label("变更为").select_option(label="不予受理")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#message")).to_contain_text("须填写原因")
    page.get_by_label("说明").first.fill("不属于消费纠纷")
    page.get_by_label("变更为").select_option(label="不予受理")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#message")).to_contain_text("已变更为“不予受理”")
    expect(page.locator("#timeline li")).to_have_count(steps + 1)
    expect(page.locator("#c-facts")).to_contain_text("不予受理")
    assert [error for error in console.errors if "422" not in error] == []


def test_association_acknowledges_an_alert_drawn_with_its_evidence(
    page: Page, live_site: LiveSite, console: ConsoleLog
) -> None:
    log_in(page, ASSOCIATION_STAFF, live_site.password)
    expect(page).to_have_url(re.compile(r"/staff/inbox$"))
    page.goto("/staff/alerts")
    card = page.locator("article.alert-card[data-status=open]").first
    alert_id = card.get_attribute("data-alert-id")
    chart = card.locator(".js-plotly-plot")
    expect(chart).to_be_visible()
    points = chart.evaluate("el => el.data.map(trace => trace.y.length)")
    assert points and points[0] > 0
    card.get_by_role("button", name="知悉").click()
    acknowledged = page.locator(f"article.alert-card[data-alert-id='{alert_id}']")
    expect(acknowledged).to_have_attribute("data-status", "acknowledged")
    expect(acknowledged.get_by_role("button", name="知悉")).to_have_count(0)
    expect(page.locator("#message")).to_contain_text("已知悉")

    acknowledged.get_by_role("button", name="驳回").click()
    expect(page.locator("#message")).to_contain_text("须填写理由")
    page.get_by_label("状态").select_option("acknowledged")
    page.get_by_role("button", name="筛选").click()
    reloaded = page.locator(f"article.alert-card[data-alert-id='{alert_id}']")
    expect(reloaded).to_be_visible()
    expect(reloaded.locator(".unread")).to_have_count(0)
    assert console.errors == []


def test_consumer_staff_see_price_alerts_with_threshold_and_peers(
    page: Page, live_site: LiveSite, console: ConsoleLog
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/alerts")
    price_alert = page.locator("article.alert-card", has_text="同城同日同品").first
    chart = price_alert.locator(".js-plotly-plot")
    expect(chart).to_be_visible()
    names = chart.evaluate("el => el.data.map(trace => trace.name)")
    assert "市场中位价" in names
    assert any(name.startswith("触发线") for name in names)
    assert any(name.startswith("同行报价") for name in names)
    assert console.errors == []


@pytest.mark.parametrize(
    ("path", "heading", "shows"),
    [
        ("/staff/crawls", "采集状态", "部分失败"),
        ("/staff/jobs", "定时任务", "数据库被锁定"),
        ("/staff/routed", "转办投诉", "共"),
        ("/staff/alerts", "预警处理", "共"),
        ("/staff/complaints", "投诉检索", "共"),
    ],
)
def test_staff_page_loads_without_console_errors(
    page: Page, live_site: LiveSite, console: ConsoleLog, path: str, heading: str, shows: str
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("main")).to_contain_text(shows)
    page.wait_for_load_state("networkidle", timeout=30_000)
    assert console.errors == []


def test_association_sees_only_complaints_routed_to_it(page: Page, live_site: LiveSite) -> None:
    log_in(page, ASSOCIATION_STAFF, live_site.password)
    page.goto("/staff/routed")
    expect(page.locator("#summary")).to_contain_text("共")
    routed = int(page.locator("#summary").inner_text().split()[1])
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/routed")
    expect(page.locator("#summary")).to_contain_text("共")
    everything = int(page.locator("#summary").inner_text().split()[1])
    assert 0 < routed < everything


@pytest.mark.parametrize(
    ("path", "rows", "size"),
    [
        ("/staff/routed", "#complaints tbody tr", 30),
        ("/staff/complaints", "#hits article", 20),
        ("/staff/alerts", "#alerts article", 10),
    ],
)
def test_list_pages_page_forward_and_back(
    page: Page, live_site: LiveSite, console: ConsoleLog, path: str, rows: str, size: int
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto(path)
    expect(page.locator("#summary")).to_contain_text("共")
    match = re.search(r"共 ([\d,]+)", page.locator("#summary").inner_text())
    assert match
    pages = max(1, math.ceil(int(match.group(1).replace(",", "")) / size))
    label = page.locator("#page-label")
    previous, following = page.get_by_role("button", name="上一页"), page.get_by_role("button", name="下一页")
    expect(label).to_have_text(f"第 1 / {pages} 页")
    expect(previous).to_be_disabled()
    if pages == 1:
        expect(following).to_be_disabled()
        return
    first = page.locator(rows).first.text_content()
    following.click()
    expect(label).to_have_text(f"第 2 / {pages} 页")
    expect(previous).to_be_enabled()
    assert page.locator(rows).first.text_content() != first
    previous.click()
    expect(label).to_have_text(f"第 1 / {pages} 页")
    expect(page.locator(rows).first).to_have_text(first or "")
    assert console.errors == []
