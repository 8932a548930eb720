"""The migrations create exactly the schema the models describe, on every database."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from core.db import alembic_config, make_engine, upgrade_database
from core.models import Base


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
