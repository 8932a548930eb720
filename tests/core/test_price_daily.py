"""The daily aggregate table kept by the write path gives the same price aggregates as the raw rows."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from analysis.aggregates import Frequency, price_aggregates
from core.db import alembic_config
from core.models import Category, PriceDailyAggregate, Product
from core.price_reads import read_daily_prices, read_observations
from core.prices import PriceInput, store_observations

FIRST = dt.date(2024, 5, 6)  # a Monday
LAST = FIRST + dt.timedelta(days=34)
SHOPS = ("道里超市", "南岗超市", "香坊菜市场")
REGIONS = ("道里区", "南岗区", "")


def _product(session: Session) -> Product:
    category = Category(code="meat", name="肉类")
    pork = Product(code="pork", name="猪肉", category=category, standard_unit="500g")
    session.add_all([category, pork])
    session.flush()
    return pork


def _prices(pork: Product, days: range, salt: float) -> list[PriceInput]:
    """Uneven prices (thirds, a zero) over shops, regions, price types and spec variants."""
    inputs = []
    for offset, (shop, region), price_type, spec in itertools.product(
        days, zip(SHOPS, REGIONS, strict=True), ("retail", "wholesale"), ("精品", None)
    ):
        unit_price = round((13 + offset % 7 + len(shop) / 3 + salt) * (1.1 if spec else 1), 6) / 3
        if offset == 3 and shop == SHOPS[0] and spec is None:
            unit_price = 0.0  # not a price: left out of aggregates
        inputs.append(
            PriceInput(
                source="test_market",
                product_id=pork.id,
                observed_at=dt.datetime.combine(
                    FIRST + dt.timedelta(days=offset),
                    dt.time(8 + bool(spec) + 2 * (price_type == "wholesale"), int(salt * 100) % 60),
                ),
                price=unit_price,
                raw_unit="斤",
                unit_price=unit_price,
                standard_unit="500g",
                merchant=shop,
                region=region,
                spec=spec,
                price_type=price_type,
            )
        )
    return inputs


def _assert_same_aggregates(session: Session, product_id: int) -> None:
    frequencies: tuple[Frequency, ...] = ("day", "week", "month")
    for price_type, region, frequency in itertools.product(
        ("retail", "wholesale"), (None, "道里区", ""), frequencies
    ):
        raw = read_observations(
            session, product_ids=[product_id], start=FIRST, end=LAST, price_type=price_type, region=region
        )
        daily = read_daily_prices(
            session, product_id=product_id, start=FIRST, end=LAST, price_type=price_type, region=region
        )
        expected = price_aggregates(raw, by=(), frequency=frequency)
        got = price_aggregates(daily, by=(), frequency=frequency)
        pd.testing.assert_frame_equal(got, expected, rtol=1e-12)


@pytest.mark.postgres
def test_aggregates_match_raw_reads_across_batches_and_duplicates(session: Session) -> None:
    pork = _product(session)
    store_observations(session, _prices(pork, range(0, 20), salt=0.0))
    session.commit()
    store_observations(session, _prices(pork, range(15, 35), salt=0.0))  # days 15-19 again: duplicates
    store_observations(session, _prices(pork, range(10, 25), salt=0.5))  # later the same days: added
    session.commit()

    _assert_same_aggregates(session, pork.id)
    day = session.get(PriceDailyAggregate, (pork.id, "retail", "道里区", FIRST + dt.timedelta(days=3)))
    assert day is not None and day.count == 1  # the zero price of that day is left out


@pytest.mark.postgres
def test_migration_fills_aggregates_from_existing_observations(session: Session) -> None:
    pork = _product(session)
    store_observations(session, _prices(pork, range(0, 35), salt=0.25))
    session.commit()
    kept = session.execute(select(PriceDailyAggregate.__table__)).all()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    scripts = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    migration = next(
        script for script in scripts.walk_revisions() if script.revision.endswith("price_daily_aggregates")
    )
    session.execute(text("DROP TABLE price_daily_aggregates"))
    session.execute(
        text("UPDATE alembic_version SET version_num = :before"), {"before": migration.down_revision}
    )
    session.commit()

    # Run just that migration (later ones are already applied), then mark the schema at head again.
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, migration.revision)
        command.stamp(config, "head")

    _assert_same_aggregates(session, pork.id)
    assert len(session.execute(select(PriceDailyAggregate.__table__)).all()) == len(kept)
