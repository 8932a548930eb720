"""Index tables are made once however many processes start on them together (API workers do): a new
index, and one built before the association scope column, which gets it in place without losing an
entry and without re-tokenizing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.db import make_engine
from search.backends.fts5 import Fts5Backend
from search.query import SearchQuery
from search.service import prepare


def _legacy_index(path: Path) -> None:
    """The tables as the previous release created them, holding 30 complaints of associations 1–3."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE search_docs (id INTEGER PRIMARY KEY, tracking_code TEXT NOT NULL, title TEXT, "
            "text TEXT NOT NULL, nature TEXT, industry TEXT, district TEXT, merchant TEXT, "
            "status TEXT NOT NULL, created_ms INTEGER NOT NULL, amount_cents INTEGER, "
            "association_id INTEGER, source_hash TEXT NOT NULL)"
        )
        conn.exec_driver_sql("CREATE INDEX ix_search_docs_created_old ON search_docs (created_ms, id)")
        conn.exec_driver_sql("CREATE VIRTUAL TABLE search_fts USING fts5(tokens, tokenize='ascii')")
        for number in range(1, 31):
            association = None if number % 4 == 0 else 1 + number % 3
            conn.exec_driver_sql(
                "INSERT INTO search_docs VALUES "
                "(?, ?, NULL, ?, '价格', NULL, NULL, NULL, 'received', ?, NULL, ?, '-')",
                (number, f"TS-{number}", "口罩 涨价", number * 60_000, association),
            )
            conn.exec_driver_sql(
                "INSERT INTO search_fts (rowid, tokens) VALUES (?, ?)", (number, "口罩 涨价")
            )
    engine.dispose()


def test_a_legacy_index_gets_the_scope_once(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    _legacy_index(path)
    engines = [make_engine(f"sqlite:///{path}") for _ in range(4)]
    backends = [Fts5Backend(engine) for engine in engines]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda backend: backend.ensure_index(), backends))
    backend = backends[0]
    assert backend.search(prepare(SearchQuery(q="口罩", facets=False))).total == 30
    for association in (1, 2, 3):
        result = backend.search(prepare(SearchQuery(q="涨价", association_id=association, size=30)))
        expected = [n for n in range(30, 0, -1) if n % 4 and 1 + n % 3 == association]
        assert result.total == len(expected)
        assert sorted((h.document.id for h in result.hits), reverse=True) == expected
    with engines[0].connect() as conn:
        tables = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
        assert "search_fts_scoped" not in tables
        columns = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(search_fts)")]
        assert columns == ["tokens", "scope"]
    for engine in engines:
        engine.dispose()


def test_backends_starting_together_make_one_index(tmp_path: Path) -> None:
    for attempt in range(5):
        engines = [make_engine(f"sqlite:///{tmp_path / f'index-{attempt}.sqlite3'}") for _ in range(6)]
        backends = [Fts5Backend(engine) for engine in engines]
        barrier = threading.Barrier(len(backends))

        def start(backend: Fts5Backend, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            backend.ensure_index()

        with ThreadPoolExecutor(max_workers=len(backends)) as pool:
            list(pool.map(start, backends))  # raised "table search_fts already exists" before
        assert backends[0].search(prepare(SearchQuery(q="口罩"))).total == 0
        for engine in engines:
            engine.dispose()
