"""The migrations create exactly the schema the models describe, on every database."""

import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from core.db import alembic_config, make_engine, upgrade_database
from core.models import Base, PriceDailyAggregate, PriceObservation
from core.prices import PriceInput, store_observations
from importing.prices import import_prices
from importing.readers import read_rows


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.postgres
def test_a_database_with_rows_upgrades_from_the_baseline(db_url: str) -> None:
    """Deployed databases hold rows that refer to the tables later migrations rebuild (SQLite copies a
    table to change it, which enforced foreign keys would refuse)."""
    engine = make_engine(db_url)
    config = alembic_config(db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("INSERT INTO categories (id, code, name) VALUES (1, 'veg', '蔬菜')"))
        connection.execute(
            text(
                "INSERT INTO products (id, code, name, category_id, standard_unit, essential)"
                " VALUES (1, 'cabbage', '大白菜', 1, '500g', true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO price_observations (natural_key, source, product_id, region, observed_at,"
                " observed_date, price, raw_unit, unit_price, standard_unit, price_type, fetched_at)"
                " VALUES ('k1', 'xinfadi', 1, '', '2026-11-01 00:00:00', '2026-11-01', 0.5, '斤', 0.5,"
                " '500g', 'wholesale', '2026-11-01 00:00:00')"
            )
        )

    upgrade_database(engine)

    with engine.connect() as connection:
        assert connection.scalar(text("SELECT name FROM products WHERE id = 1")) == "大白菜"
        assert connection.scalar(text("SELECT count(*) FROM price_observations")) == 1
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()


def _old_key(*parts: str) -> str:
    """The natural key rows had before variants were part of it."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@pytest.mark.postgres
def test_rows_stored_before_variants_are_not_added_again_after_0011(db_url: str) -> None:
    """A database filled by the old crawler and importer (origin inside region, no record ids, no names):
    after the upgrade, re-crawling and re-importing the same prices adds nothing and re-keys the old rows."""
    engine = make_engine(db_url)
    config = alembic_config(db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0010_public_price_follows")
        connection.execute(text("INSERT INTO categories (id, code, name) VALUES (1, 'vegetables', '蔬菜')"))
        connection.execute(
            text(
                "INSERT INTO products (id, code, name, category_id, standard_unit, essential)"
                " VALUES (1, 'cucumber', '黄瓜', 1, '500g', true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO merchants (id, name, kind, created_at)"
                " VALUES (1, '南岗菜市场12号', 'retail', '2022-06-01 00:00:00')"
            )
        )
        insert = text(
            "INSERT INTO price_observations (natural_key, source, merchant_id, product_id, region,"
            " observed_at, observed_date, price, low_price, high_price, raw_unit, spec, unit_price,"
            " standard_unit, price_type, fetched_at, spider, extractor)"
            " VALUES (:key, :source, :merchant, 1, :region, '2022-06-18 00:00:00', '2022-06-18', :price,"
            " :low, :high, '斤', :spec, :price, '500g', :type, '2022-06-18 00:00:00', :spider, :extractor)"
        )
        old_crawl = {"source": "xinfadi", "merchant": None, "type": "wholesale", "spider": "xinfadi"}
        connection.execute(
            insert,
            [
                {
                    **old_crawl,
                    "key": _old_key("xinfadi", "", "1", region, "2022-06-18T00:00:00"),
                    "region": region,
                    "price": price,
                    "low": price - 0.05,
                    "high": price + 0.05,
                    "spec": spec,
                    "extractor": "xinfadi-json",
                }
                for region, spec, price in [("鲁辽·袋\\箱", "袋\\箱", 0.85), ("冀·鲜干花", "鲜干花", 0.9)]
            ]
            + [
                {
                    "key": _old_key("import", "南岗菜市场12号", "1", "南岗区", "2022-06-18T00:00:00"),
                    "source": "import",
                    "merchant": 1,
                    "type": "retail",
                    "spider": None,
                    "extractor": "import",
                    "region": "南岗区",
                    "price": 2.5,
                    "low": None,
                    "high": None,
                    "spec": None,
                }
            ],
        )
        day = (
            'INSERT INTO price_daily_aggregates (product_id, price_type, region, observed_date, "count",'
            " total, low, high, prices) VALUES (1, :type, :region, '2022-06-18', 1, :price, :price, :price,"
            " :text)"
        )
        connection.execute(
            text(day),
            [
                {"type": "wholesale", "region": "鲁辽·袋\\箱", "price": 0.85, "text": "0.85"},
                {"type": "wholesale", "region": "冀·鲜干花", "price": 0.9, "text": "0.9"},
                {"type": "retail", "region": "南岗区", "price": 2.5, "text": "2.5"},
            ],
        )

    upgrade_database(engine)

    with Session(engine) as session:
        wholesale = session.scalars(
            select(PriceObservation).where(PriceObservation.source == "xinfadi")
        ).all()
        assert sorted((row.region, row.origin, row.spec) for row in wholesale) == [
            ("北京", "冀", "鲜干花"),
            ("北京", "鲁辽", "袋\\箱"),
        ]
        assert all(row.legacy_key for row in session.scalars(select(PriceObservation)))
        days = session.execute(select(PriceDailyAggregate.region, PriceDailyAggregate.count)).all()
        assert sorted(days) == [("北京", 2), ("南岗区", 1)]

        # the same Xinfadi rows crawled again (the crawler keys them by the site's ids) ...
        again = [
            PriceInput(
                source="xinfadi",
                product_id=1,
                observed_at=dt.datetime(2022, 6, 18),
                price=Decimal(price),
                raw_unit="斤",
                unit_price=float(price),
                standard_unit="500g",
                region="北京",
                origin=origin,
                spec=spec,
                source_name="黄瓜",
                source_record_id=record_id,
                price_type="wholesale",
                spider="xinfadi",
            )
            for record_id, origin, spec, price in [
                ("1294531", "鲁辽", "袋\\箱", "0.85"),
                ("1294532", "冀", "鲜干花", "0.9"),
                ("1294533", "冀", "袋\\箱", "0.95"),  # a quote the old key lost: now stored
            ]
        ]
        assert store_observations(session, again) == (1, 2)
        # ... and the old retail import again, now with the item's name as the variant
        retail = "date,product,price,unit,merchant,region\n2022-06-18,黄瓜,2.5,斤,南岗菜市场12号,南岗区\n"
        summary = import_prices(session, read_rows(io.BytesIO(retail.encode()), Path("p.csv")))
        assert (summary.imported, summary.skipped) == (0, 1)
        session.commit()
        assert store_observations(session, again) == (0, 3)  # from now on by their new keys
        rows = session.scalars(select(PriceObservation)).all()
        assert len(rows) == 4
        assert all(row.legacy_key is None for row in rows)
        assert sorted(row.source_record_id or row.source_name for row in rows) == [
            "1294531",
            "1294532",
            "1294533",
            "黄瓜",
        ]
        days = session.execute(select(PriceDailyAggregate.region, PriceDailyAggregate.count)).all()
        assert sorted(days) == [("北京", 3), ("南岗区", 1)]
    engine.dispose()
