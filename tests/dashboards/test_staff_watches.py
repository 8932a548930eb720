"""我的关注 in a real browser: save a search as a watch, see it listed, stop it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.dashboards.conftest import CONSUMER_STAFF, ConsoleLog, LiveSite, log_in

pytestmark = pytest.mark.browser


def test_staff_saves_a_search_as_a_watch_and_stops_it(
    page: Page, live_site: LiveSite, console: ConsoleLog
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/watches")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的关注")
    page.get_by_label("名称").fill("鸡蛋涨价投诉")
    page.get_by_label("检索词").fill("鸡蛋 涨价")
    page.get_by_label("Webhook", exact=True).check()
    page.get_by_label("Webhook 地址").fill("https://hooks.example.cn/fairmarket")
    page.get_by_role("button", name="保存关注").click()
    row = page.locator("#watches tbody tr", has_text="鸡蛋涨价投诉")
    expect(row).to_contain_text("保存的检索")
    expect(row).to_contain_text("收件箱、Webhook")
    expect(page.locator("#secret")).to_contain_text("只显示这一次")
    row.get_by_role("button", name="取消关注").click()
    expect(page.locator("#watches tbody tr", has_text="鸡蛋涨价投诉")).to_have_count(0)
    assert console.errors == []
