"""Screenshots of every page at 1400 px and 390 px, for a person to look at (docs/screenshots/).

Run on demand: ``FAIRMARKET_SCREENSHOTS=docs/screenshots pytest tests/dashboards/test_screenshots.py``.
Without the variable the test is skipped: it checks nothing a person does not check by looking.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from tests.dashboards.conftest import ASSOCIATION_STAFF, CONSUMER_STAFF, LiveSite, log_in

pytestmark = pytest.mark.browser

PUBLIC = {
    "home": "/",
    "prices": "/prices?product=pork",
    "price-index": "/price-index",
    "alerts": "/alerts",
    "complaint-stats": "/complaint-stats",
    "merchants": "/merchants",
    "complaint-form": "/complaints/new",
    "track": "/track",
    "not-found": "/no-such-page",
    "docs": "/docs",
    "staff-login": "/staff/login",
    "price-follow-confirm": "/price-follows/confirm?token=not-a-token",
}
STAFF = {
    "staff-inbox": "/staff/inbox",
    "staff-alerts": "/staff/alerts",
    "staff-complaints": "/staff/complaints",
    "staff-routed": "/staff/routed",
    "staff-subscriptions": "/staff/subscriptions",
    "staff-crawls": "/staff/crawls",
    "staff-jobs": "/staff/jobs",
    "staff-watches": "/staff/watches",
    "staff-provisional-goods": "/staff/provisional-goods",
}
WIDTHS = {"desktop": 1400, "phone": 390}


def _shoot(page: Page, folder: Path, name: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    path = folder / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=False)
    if shutil.which("pngquant"):
        subprocess.run(
            ["pngquant", "--force", "--skip-if-larger", "--output", str(path), "64", str(path)], check=False
        )


def test_screenshot_every_page(page: Page, live_site: LiveSite) -> None:
    target = os.environ.get("FAIRMARKET_SCREENSHOTS")
    if not target:
        pytest.skip("set FAIRMARKET_SCREENSHOTS to a folder to take screenshots")
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    filed = httpx.post(
        f"{live_site.base_url}/api/complaints",
        params={"channel": "web_form"},
        json={
            "title": "鸡蛋结算价高于标价",
            "text": "在道里区超市买鸡蛋，结账时比标价多收了 8 元。",
            "district": "道里区",
        },
    ).json()
    shown = {**PUBLIC, "merchant": "/merchants/1", "track-result": f"/track?code={filed['tracking_code']}"}
    for width in WIDTHS.values():
        page.goto("/")
        page.evaluate("sessionStorage.clear()")  # public pages as the public sees them
        for name, path in shown.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)
            _shoot(page, folder, name, width)
        log_in(page, ASSOCIATION_STAFF, live_site.password)
        for name, path in {
            "staff-inbox-association": "/staff/inbox",
            "staff-subscriptions": "/staff/subscriptions",
        }.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)
            _shoot(page, folder, name, width)
        log_in(page, CONSUMER_STAFF, live_site.password)
        for name, path in STAFF.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)
            _shoot(page, folder, name, width)
        page.goto("/staff/complaints?sort=date")
        page.locator("#hits article h3 a").first.click()
        _shoot(page, folder, "staff-complaint", width)
