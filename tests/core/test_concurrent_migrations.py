"""Several workers starting at once all end with the schema at head, none fails."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import inspect

from core.db import make_engine, upgrade_database


def test_parallel_upgrades_all_succeed(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(upgrade_database, engines))
        assert "complaints" in inspect(engines[0]).get_table_names()
    finally:
        for engine in engines:
            engine.dispose()
