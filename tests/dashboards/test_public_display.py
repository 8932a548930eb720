"""What the public reads, at desktop (1400 px) and phone (390 px) widths: Chinese names only, the new
价格预警公示 page, the tracking view without internal steps, error pages, offline docs, safe forms."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from core.display_names import DISPLAY_NAMES
from tests.dashboards.conftest import CONSUMER_STAFF, ConsoleLog, LiveSite

pytestmark = pytest.mark.browser

WIDTHS = [pytest.param(1400, id="desktop"), pytest.param(390, id="phone")]
INTERNAL_NOTE = "内部备注：复核后改派药店协会"
# Every ASCII code of the display table that a reader could mistake for text (a lone "L" could not).
CODES = sorted(
    {code for names in DISPLAY_NAMES.values() for code in names if code.isascii() and len(code) > 1}
)
CODE_PATTERN = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, CODES)) + r")(?![A-Za-z0-9_])")


@pytest.fixture(params=WIDTHS)
def width(request: pytest.FixtureRequest, page: Page) -> int:
    size: int = request.param
    page.set_viewport_size({"width": size, "height": 900})
    return size


def _staff_token(site: LiveSite, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{site.base_url}/api/auth/token", data={"username": username, "password": site.password}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture(scope="module")
def corrected_complaint(live_site: LiveSite) -> Iterator[str]:
    """A complaint filed by the web form whose industry staff corrected with an internal note."""
    filed = httpx.post(
        f"{live_site.base_url}/api/complaints",
        params={"channel": "web_form"},
        json={"text": "在道里区超市买的感冒药比标价贵了十元，收银员拒绝退还差价。", "district": "道里区"},
    )
    filed.raise_for_status()
    created = filed.json()
    corrected = httpx.patch(
        f"{live_site.base_url}/api/complaints/{created['id']}/classification",
        json={"industry": "pharmacy", "note": INTERNAL_NOTE},
        headers=_staff_token(live_site, CONSUMER_STAFF),
    )
    corrected.raise_for_status()
    yield created["tracking_code"]


def _visible_codes(page: Page) -> list[str]:
    return sorted(set(CODE_PATTERN.findall(page.locator("body").inner_text())))


@pytest.mark.parametrize(
    "path", ["/", "/prices", "/price-index", "/alerts", "/complaint-stats", "/complaints/new", "/track"]
)
def test_public_pages_show_no_codes_from_the_display_table(
    page: Page, console: ConsoleLog, width: int, path: str
) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle", timeout=30_000)
    assert _visible_codes(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, "no sideways scrolling"
    assert console.errors == []


def test_tracking_view_names_everything_in_chinese_and_hides_internal_steps(
    page: Page, console: ConsoleLog, width: int, corrected_complaint: str
) -> None:
    page.goto(f"/track?code={corrected_complaint}")
    facts = page.locator("#result-facts")
    expect(facts).to_contain_text("药品零售")
    expect(facts).to_contain_text("转交调解")
    expect(page.locator("#timeline")).to_contain_text("渠道：网页表单")
    body = page.locator("body").inner_text()
    assert INTERNAL_NOTE not in body and "更正分类" not in body
    assert _visible_codes(page) == []
    assert console.errors == []


def test_alerts_page_shows_published_alerts_with_evidence_and_filters(
    page: Page, console: ConsoleLog, width: int
) -> None:
    page.goto("/alerts")
    expect(page.get_by_role("heading", level=1)).to_have_text("价格预警公示")
    cards = page.locator("article.alert-card")
    expect(cards.first).to_be_visible()
    # every card's chart is drawn (or says why not) before the charts are read; the page fetches nothing more
    page.wait_for_function(
        "() => [...document.querySelectorAll('article.alert-card .chart')]"
        ".every(c => c.classList.contains('js-plotly-plot') || c.classList.contains('no-data'))",
        timeout=30_000,
    )
    chart = page.locator("article.alert-card .js-plotly-plot").first
    expect(chart).to_be_visible()
    for unpublished in page.locator("article.alert-card .chart.no-data").all():
        expect(unpublished).to_contain_text("确认后公布")
    first_x, last_x = chart.evaluate("el => el.layout.xaxis.range")
    dates = chart.evaluate("el => el.data.flatMap(t => t.x.filter((x, i) => t.y[i] !== null))")
    assert first_x[:10] <= min(dates) <= last_x[:10], "the chart starts where the data starts"
    prices = chart.evaluate("el => el.data.flatMap(t => t.y.filter(v => v !== null))")
    assert all(round(value, 2) == value for value in prices), "prices to 2 decimals"
    toolbar = chart.evaluate("el => el._context.displayModeBar")
    assert toolbar == ("hover" if width > 560 else False), "no toolbar over a phone's chart"
    assert chart.evaluate("el => el.getBoundingClientRect().right") <= width

    product = page.get_by_label("商品")
    chosen = product.locator("option").nth(1).inner_text()
    product.select_option(label=chosen)
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"product_id=\d+"))
    expect(cards.first.locator("dl")).to_contain_text(chosen)
    assert all(chosen in text for text in cards.locator("dl").all_inner_texts())

    page.get_by_label("起始日期").fill("2026-03-01")
    page.get_by_label("结束日期").fill("2026-02-01")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#message")).to_contain_text("起始日期 2026-03-01 晚于结束日期 2026-02-01")
    assert console.errors == []


def test_unknown_address_gets_a_chinese_page(page: Page, console: ConsoleLog, width: int) -> None:
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    page.get_by_role("link", name="返回首页").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("首页")


def test_api_docs_render_with_no_internet(page: Page, live_site: LiveSite, console: ConsoleLog) -> None:
    outside: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(live_site.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto("/docs")
    page.wait_for_load_state("networkidle", timeout=30_000)
    assert console.errors == []
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("FairMarket")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert outside == []


def test_complaint_form_files_once_however_often_it_is_sent(
    page: Page, live_site: LiveSite, console: ConsoleLog, width: int
) -> None:
    headers = _staff_token(live_site, CONSUMER_STAFF)

    def count() -> int:
        answer = httpx.get(f"{live_site.base_url}/api/complaints", params={"size": 1}, headers=headers)
        return int(answer.json()["count"])

    before = count()
    page.goto("/complaints/new")
    page.get_by_label("投诉内容").fill("在南岗区某药店买的口罩一盒卖到八十元，远高于平时价格，要求退还差价。")
    submit = page.get_by_role("button", name="提交投诉")
    submit.dblclick()
    page.keyboard.press("Enter")
    expect(page.locator("#tracking-code")).not_to_be_empty()
    expect(page.locator("#complaint")).to_be_hidden()
    expect(page.locator("#text")).to_be_disabled()
    assert count() == before + 1
    assert console.errors == []


def test_hot_words_are_content_words_that_open_a_search(page: Page, console: ConsoleLog, width: int) -> None:
    page.goto("/complaint-stats")
    words = page.locator("#hot-words li a")
    expect(words.first).to_be_visible()
    labels = [text.split()[0] for text in words.all_inner_texts()]
    assert not {"实际", "属于", "家住", "单元", "一直"} & set(labels)
    href = words.first.get_attribute("href") or ""
    assert href.startswith("/staff/complaints?q=")
    assert console.errors == []


def test_price_picker_greys_out_goods_without_prices(page: Page, console: ConsoleLog, width: int) -> None:
    page.goto("/prices")
    expect(page.locator("#chart.js-plotly-plot")).to_be_visible()
    disabled = page.locator("#product option:disabled")
    if disabled.count():
        expect(page.locator("#unpriced-hint")).to_contain_text("尚未采集到价格")
        assert all(text.endswith("暂无数据") for text in disabled.all_inner_texts())
    layout = page.eval_on_selector("#chart", "el => el._fullLayout.xaxis.nticks")
    assert layout <= (4 if width < 560 else 10)
    titles = page.eval_on_selector("#chart", "el => el.layout.title.x")
    assert titles == 0, "the title sits left, clear of the toolbar"
    assert console.errors == []
