"""Counting facets (and totals) of FTS5 searches, on a pool of threads beside the searches ranking hits.

SQLite leaves the GIL while it works, so a search's facets, counted on a second connection while its
own connection ranks and reads the hits, cost it little more than the hits do.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from functools import lru_cache

from sqlalchemy import Connection, Engine

from search.backends import fts5_sql
from search.query import FACET_FIELDS, MAX_FACET_VALUES, FacetCount, SearchQuery

TALLY_THREADS = 8  # searches whose facets are counted at the same time; more wait for a thread
Tally = tuple[int | None, dict[str, list[FacetCount]]]  # a total (None: not counted) and facets


@lru_cache(maxsize=1)
def tally_threads() -> ThreadPoolExecutor:
    """Threads that count totals and facets beside the searches ranking their hits (one per search)."""
    return ThreadPoolExecutor(max_workers=TALLY_THREADS, thread_name_prefix="fts5-tally")


def tally_beside(
    engine: Engine,
    reading: Callable[[], AbstractContextManager[Connection]],
    query: SearchQuery,
    matched: str,
    *,
    count: bool,
) -> Future[Tally]:
    """``tally_matched`` on a connection of its own (from ``reading``), on the pool.

    An in-memory database exists once per connection, so there it runs here, in turn.
    """

    def on_own_connection() -> Tally:
        with reading() as conn:
            return tally_matched(conn, query, matched, count=count)

    if engine.url.database in (None, "", ":memory:"):
        done: Future[Tally] = Future()
        done.set_result(on_own_connection())
        return done
    return tally_threads().submit(on_own_connection)


def tally_matched(conn: Connection, query: SearchQuery, matched: str, *, count: bool) -> Tally:
    """The total (when ``count``) and the facets over known matches (JSON ids), in one statement."""
    rows = conn.exec_driver_sql(*fts5_sql.tally(query, matched, count=count)).all()
    total = next((n for number, _, n in rows if number == -1), None)
    facets: dict[str, list[FacetCount]] = {facet: [] for facet in FACET_FIELDS} if query.facets else {}
    for number, value, n in sorted(rows, key=lambda row: (row[0], -row[2], row[1] or "")):
        if number >= 0:  # UNION ALL promises no order, so sort here
            facets[FACET_FIELDS[number]].append(FacetCount(value, n))
    return total, facets


def count_facets(
    conn: Connection, query: SearchQuery, floor: int | None, matched: str | None
) -> dict[str, list[FacetCount]]:
    """Every facet, each under every filter but its own; those sharing one filter in one pass."""
    filtered = [facet for facet in FACET_FIELDS if query.values(facet)]
    facets = {
        facet: [
            FacetCount(value, count)
            for value, count in conn.exec_driver_sql(*fts5_sql.facet_counts(query, facet, floor, matched))
        ]
        for facet in filtered
    }
    shared = [facet for facet in FACET_FIELDS if facet not in filtered]
    if shared:
        where = fts5_sql.filters(query, floor=floor, matched=matched)
        rows = conn.exec_driver_sql(*fts5_sql.shared_facets(where, shared)).all()
        for number, facet in enumerate(shared):
            ordered = sorted(
                ((v, n) for i, v, n in rows if i == number), key=lambda item: (-item[1], item[0])
            )
            facets[facet] = [FacetCount(value, count) for value, count in ordered[:MAX_FACET_VALUES]]
    return {facet: facets[facet] for facet in FACET_FIELDS}
