"""Public pages in a real browser: they load without console errors and their charts carry data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from tests.dashboards.conftest import ConsoleLog

pytestmark = pytest.mark.browser


def plotted_points(page: Page, selector: str) -> list[int]:
    """How many points each Plotly trace drawn in ``selector`` holds (read from Plotly's own DOM data)."""
    page.wait_for_function(
        "sel => { const el = document.querySelector(sel); return el && el.data && el.data.length > 0; }",
        arg=selector,
    )
    return page.eval_on_selector(
        selector, "el => el.data.map(trace => (trace.y || trace.values || []).length)"
    )


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "首页"),
        ("/prices", "价格走势"),
        ("/price-index", "民生价格指数"),
        ("/complaint-stats", "投诉统计"),
        ("/complaints/new", "我要投诉"),
        ("/track", "投诉查询"),
        ("/staff/login", "工作人员登录"),
    ],
)
def test_public_page_loads_without_console_errors(
    page: Page, console: ConsoleLog, path: str, heading: str
) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.wait_for_load_state("networkidle", timeout=30_000)
    assert console.errors == []


def test_price_trend_chart_draws_low_average_high_with_points(page: Page, console: ConsoleLog) -> None:
    page.goto("/prices?product=pork")
    points = plotted_points(page, "#chart")
    assert len(points) == 3
    assert min(points) > 20
    rows = page.locator("#table tbody tr")
    expect(rows).to_have_count(points[0])
    page.get_by_label("地区").select_option(label="哈尔滨市（零售）")
    page.get_by_label("统计周期").select_option("week")
    page.get_by_role("button", name="查询").click()
    page.wait_for_function("() => document.querySelector('#chart').data[0].y.length < 20")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载 CSV").click()
    content = download.value.path().read_text(encoding="utf-8-sig")
    assert content.splitlines()[0] == "日期,最低价,平均价,最高价,中位数,报价数,单位"
    assert console.errors == []


def test_submitted_complaint_is_found_by_its_tracking_code(page: Page, console: ConsoleLog) -> None:
    page.goto("/complaints/new")
    page.get_by_role("button", name="提交投诉").click()
    expect(page.locator("#message")).to_contain_text("请填写投诉内容")
    page.get_by_label("投诉内容").fill("在道里区某超市买的鸡蛋，结账时比标价多收了 8 元，要求退还差价。")
    page.get_by_label("标题").fill("鸡蛋结算价高于标价")
    page.get_by_label("所在区").select_option("道里区")
    page.get_by_label("涉及金额（元）").fill("8")
    page.get_by_role("button", name="提交投诉").click()
    code = page.locator("#tracking-code")
    expect(code).not_to_be_empty()
    tracking_code = code.inner_text()
    page.get_by_role("link", name="查看处理进度").click()
    expect(page.locator("#result-title")).to_have_text("鸡蛋结算价高于标价")
    expect(page.locator("#result-facts")).to_contain_text(tracking_code)
    expect(page.locator("#timeline li")).not_to_have_count(0)

    page.goto("/track")
    page.get_by_label("查询码").fill(tracking_code)
    page.get_by_label("查询码").press("Enter")
    expect(page.locator("#result-facts")).to_contain_text("已受理登记")
    assert console.errors == []


def test_price_index_and_complaint_stats_charts_have_data(page: Page, console: ConsoleLog) -> None:
    page.goto("/price-index")
    assert plotted_points(page, "#chart")[0] > 20
    axis = page.eval_on_selector("#chart", "el => el._fullLayout.xaxis.range")
    priced = page.eval_on_selector("#chart", "el => el.data[0].x.filter((x, i) => el.data[0].y[i] !== null)")
    opens, closes = (dt.date.fromisoformat(end[:10]) for end in axis)
    first, last = dt.date.fromisoformat(min(priced)), dt.date.fromisoformat(max(priced))
    assert first - dt.timedelta(days=1) <= opens <= first, "the axis opens where the index starts"
    assert last <= closes <= last + dt.timedelta(days=1), "and closes where it ends"
    expect(page.locator("#categories tbody tr")).not_to_have_count(0)
    page.goto("/complaint-stats")
    assert sum(plotted_points(page, "#by-nature")) > 0
    assert len(plotted_points(page, "#by-month")) == 1
    expect(page.locator("#hot-words li")).not_to_have_count(0)
    assert console.errors == []


def test_complaint_form_works_with_the_keyboard_alone(page: Page, console: ConsoleLog) -> None:
    page.goto("/complaints/new")
    for _ in range(30):
        if page.evaluate("document.activeElement.id") == "text":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type("网购的电饭煲收到就坏了，商家拒绝退货。")
    for _ in range(30):
        if page.evaluate("document.activeElement.textContent") == "提交投诉":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#tracking-code")).to_have_text(re.compile(r"\S+"))
    assert console.errors == []


def test_invalid_complaint_is_explained_in_chinese_and_nothing_typed_is_lost(page: Page) -> None:
    page.goto("/complaints/new")
    page.get_by_label("投诉内容").fill("短")
    page.get_by_label("涉及金额（元）").fill("十块")
    page.get_by_role("button", name="提交投诉").click()
    message = page.locator("#message")
    expect(message).to_contain_text("投诉内容：内容过短")
    expect(message).to_contain_text("涉及金额（元）：请填写数字")
    expect(page.get_by_label("投诉内容")).to_have_value("短")
    expect(page.get_by_label("涉及金额（元）")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#created")).to_be_hidden()
