"""预警收件箱 in a real browser: the evidence pack of an alert downloads and verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from alerts.evidence_pack import verify_pack
from tests.dashboards.conftest import CONSUMER_STAFF, ConsoleLog, LiveSite, log_in

pytestmark = pytest.mark.browser


def test_staff_downloads_an_evidence_pack_that_verifies(
    page: Page, live_site: LiveSite, console: ConsoleLog, tmp_path: Path
) -> None:
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/alerts")
    button = page.get_by_role("button", name="下载证据包").first
    expect(button).to_be_visible()
    with page.expect_download() as download:
        button.click()
    saved = tmp_path / "pack.zip"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("evidence-pack-alert-")
    assert verify_pack(saved.read_bytes()) == []
    assert console.errors == []
