"""经营者投诉档案 in a real browser at desktop and phone widths: the list and one merchant's record."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.dashboards.conftest import ConsoleLog

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1400, 390], ids=["desktop", "phone"])
def test_merchant_record_compares_with_the_industry(page: Page, console: ConsoleLog, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/merchants")
    rows = page.locator("#merchants tbody tr")
    expect(rows.first).to_be_visible()
    counts = [int(text) for text in page.locator("#merchants tbody tr td:nth-child(4)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    name = rows.first.locator("a").inner_text()
    rows.first.locator("a").click()
    expect(page.locator("#m-name")).to_have_text(name, timeout=20_000)
    expect(page.locator("#m-compare tbody tr")).to_have_count(3)
    expect(page.locator("#m-size-note")).to_contain_text("同行业中位数")
    expect(page.locator("#m-nature.js-plotly-plot")).to_be_visible()
    expect(page.locator("#m-alerts li").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1

    page.goto("/merchants?q=不存在的商号")
    expect(page.locator("#summary")).to_contain_text("没有找到名称含“不存在的商号”的")
    assert console.errors == []
