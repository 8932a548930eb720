"""待归类商品 in a real browser: a provisional good is listed, merged into a good, and the merge undone."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.db import get_engine, session_factory
from core.models import PriceObservation, Product
from core.prices import PriceInput, store_observations
from core.provisional import GoodsResolver
from tests.dashboards.conftest import CONSUMER_STAFF, ConsoleLog, LiveSite, log_in

pytestmark = pytest.mark.browser
NAME = "本地小白菜心"


def _provisional_good(site: LiveSite) -> int:
    with session_factory(get_engine(site.settings.resolved_database_url))() as session:
        good = GoodsResolver(session).resolve(NAME, unit="斤", category="蔬菜")
        quotes = [
            PriceInput(
                source="浏览器测试",
                product_id=good.id,
                observed_at=dt.date(2026, 1, day),
                price=1.5,
                raw_unit="斤",
                unit_price=1.5,
                standard_unit="500g",
                region="测试区",
                source_name=NAME,
            )
            for day in (5, 6, 7)
        ]
        store_observations(session, quotes)
        session.commit()
        return good.id


def _rows_of(site: LiveSite, product_id: int) -> int:
    with session_factory(get_engine(site.settings.resolved_database_url))() as session:
        return len(
            session.scalars(
                select(PriceObservation.id).where(PriceObservation.product_id == product_id)
            ).all()
        )


def test_staff_merge_a_provisional_good_and_undo_it(
    page: Page, live_site: LiveSite, console: ConsoleLog
) -> None:
    provisional_id = _provisional_good(live_site)
    log_in(page, CONSUMER_STAFF, live_site.password)
    page.goto("/staff/provisional-goods")
    expect(page.get_by_role("heading", level=1)).to_have_text("待归类商品")
    row = page.locator("#provisional tbody tr", has_text=NAME)
    expect(row).to_contain_text("蔬菜")
    expect(row).to_contain_text("3")
    row.get_by_label(f"{NAME} 并入的商品").fill("大白菜")
    row.get_by_role("button", name="合并").click()
    done = page.locator("#merged tbody tr", has_text=NAME)
    expect(done).to_contain_text("大白菜")
    expect(page.locator("#provisional tbody tr", has_text=NAME)).to_have_count(0)
    assert _rows_of(live_site, provisional_id) == 0
    done.get_by_role("button", name="撤销").click()
    expect(page.locator("#provisional tbody tr", has_text=NAME)).to_have_count(1)
    expect(page.locator("#merged tbody tr")).to_have_count(0)
    assert _rows_of(live_site, provisional_id) == 3
    with session_factory(get_engine(live_site.settings.resolved_database_url))() as session:
        assert session.get(Product, provisional_id).status == "provisional"  # type: ignore[union-attr]
    assert console.errors == []
