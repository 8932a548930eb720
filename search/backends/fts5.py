"""SQLite FTS5 backend: the embedded default.

The index lives in the system database when that is SQLite (one file to back up, no server), and in a
sidecar SQLite file next to the data when the system database is PostgreSQL (``search.service`` decides).
The FTS5 table holds the space-joined tokenizer terms under the ``ascii`` tokenizer, which splits on the
spaces and nothing else, so SQLite matches exactly the terms the Elasticsearch backend matches; its
``scope`` column holds the complaint's association, so an association's search is one FTS5 query over its
own complaints (its newest matches, ranking and total), not a filter applied after the match.
Relevance is FTS5's bm25 over the terms; filters are SQL; facets are GROUP BY, counted on a second
connection while the first ranks the hits. A full rebuild fills ``*_next`` tables in committed chunks and
renames them over the live ones in one short transaction.

This module runs searches and writes; the parts live beside it: ``fts5_schema`` (tables, upgrades),
``fts5_sql`` (every statement, pure), ``fts5_plan`` (how a search runs), ``fts5_writer`` (the rebuild's
writer thread), ``fts5_facets`` (facet counting and its thread pool).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from core.db import sqlite_file_lock
from search.backends import fts5_sql
from search.backends.base import Progress, chunked
from search.backends.fts5_facets import Tally, count_facets, tally_beside, tally_matched
from search.backends.fts5_plan import SearchPlan
from search.backends.fts5_schema import NEXT, ensure_tables, fresh_next_tables, swap_in_next_tables
from search.backends.fts5_writer import write_behind, write_documents
from search.query import (
    TOTAL_LIMIT,
    BackendHit,
    BackendResult,
    HistogramBucket,
    SearchDocument,
    SearchQuery,
    decode_cursor,
    encode_cursor,
)

CHUNK = 1000
SAMPLE_LIMIT = 2000  # more matches than this: relevance and facets look at the newest this many only
WALK_BATCH_MAX = 16_384
OUTSIDERS_MAX = 1000  # complaints older by id, newer by date than a page from the sample: merged
MMAP_BYTES = 1 << 30  # read the index through memory mapping: a row lookup costs no read() call
HASHES_PAGE = 10_000


def _pairs(rows: Iterable[Sequence[Any]]) -> list[tuple[int, float | None]]:
    return [(row[0], row[1]) for row in rows]


class Fts5Backend:
    name = "sqlite-fts5"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_index(self) -> None:
        """Create the tables, or give old ones the scope column; one process at a time (API workers
        start together, and pysqlite runs DDL outside a transaction, so checking first is no guard)."""
        with sqlite_file_lock(self.engine.url, "search-index"), self.engine.begin() as conn:
            ensure_tables(conn)

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        written = 0
        for chunk in chunked(documents, CHUNK):
            with self.engine.begin() as conn:
                write_documents(conn, chunk)
            written += len(chunk)
        return written

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Nothing to defer: each committed chunk is searchable at once."""
        yield

    def delete(self, ids: Iterable[int]) -> None:
        for chunk in chunked(((i,) for i in ids), CHUNK):
            with self.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM search_fts WHERE rowid = ?", list(chunk))
                conn.exec_driver_sql("DELETE FROM search_docs WHERE id = ?", list(chunk))

    def indexed_hashes(self) -> Iterator[tuple[int, str]]:
        last_id = -1
        while True:
            with self.engine.connect() as conn:
                rows = conn.exec_driver_sql(*fts5_sql.hashes_page(last_id, HASHES_PAGE)).all()
            if not rows:
                return
            yield from ((row[0], row[1]) for row in rows)
            last_id = rows[-1][0]

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        with self.engine.begin() as conn:
            fresh_next_tables(conn)
        written = write_behind(self.engine, chunked(documents, CHUNK), NEXT, progress)
        with self.engine.begin() as conn:
            swap_in_next_tables(conn)
        return written

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection that reads the index through memory mapping."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA mmap_size={MMAP_BYTES}")
            yield conn

    def _plan(self, conn: Connection, query: SearchQuery) -> SearchPlan:
        """The plan, from the newest ``SAMPLE_LIMIT`` matches (one more tells whether more match)."""
        if not query.term_groups:
            return SearchPlan.make(query, [], None)
        statement = fts5_sql.newest_matches(fts5_sql.query_match(query), SAMPLE_LIMIT + 1)
        ids = list(conn.exec_driver_sql(*statement).scalars())
        if len(ids) > SAMPLE_LIMIT:
            return SearchPlan.make(query, ids[:SAMPLE_LIMIT], ids[SAMPLE_LIMIT - 1])
        return SearchPlan.make(query, ids, None)

    @staticmethod
    def _newest_in_scope(conn: Connection, query: SearchQuery) -> str:
        """The newest ``SAMPLE_LIMIT`` complaints an unworded search sees (JSON ids): with no terms every
        complaint matches, and counting facets over a million of them takes seconds."""
        statement = fts5_sql.newest_in_scope(query.association_id, SAMPLE_LIMIT)
        return json.dumps(list(conn.exec_driver_sql(*statement).scalars()))

    def search(self, query: SearchQuery) -> BackendResult:
        with self._reading() as conn:
            plan = self._plan(conn, query)
            where = fts5_sql.filters(query, floor=plan.floor, matched=plan.matched)
            tally: Future[Tally] | None = None
            if plan.tally_beside:
                assert plan.matched is not None
                tally = tally_beside(
                    self.engine, self._reading, query, plan.matched, count=plan.count_in_tally
                )
            hits: list[BackendHit] = []
            next_cursor: str | None = None
            if query.size:
                hits, next_cursor = self._hits(conn, plan, where)
            total, facets = tally.result() if tally is not None else (None, {})
            if total is None:
                statement = fts5_sql.bounded_total(
                    query, where, terms_only=plan.terms_only, limit=TOTAL_LIMIT
                )
                total = conn.exec_driver_sql(*statement).scalar_one()
            total, relation = plan.bounded_total(total, TOTAL_LIMIT)
            if query.facets and plan.browse_sampled(relation):
                _, facets = tally_matched(conn, query, self._newest_in_scope(conn, query), count=False)
            elif query.facets and not facets:
                facets = count_facets(conn, query, plan.floor, plan.matched)
            histogram = self._histogram(conn, query, fts5_sql.filters(query)) if query.histogram else []
        return BackendResult(
            total=total,
            hits=hits,
            facets=facets,
            histogram=histogram,
            next_cursor=next_cursor,
            total_relation=relation,
            sampled_newest=SAMPLE_LIMIT if plan.sampled(relation) else None,
        )

    def _hits(
        self, conn: Connection, plan: SearchPlan, where: fts5_sql.Where
    ) -> tuple[list[BackendHit], str | None]:
        """Order first, on ids and sort keys only; then read the page's rows (sorting wide rows is slow)."""
        query = plan.query
        sort = query.effective_sort
        page: Sequence[tuple[int, float | None]]
        if sort == "date" and plan.broad_floor is not None:
            assert plan.sample is not None
            found = self._newest_in_sample(conn, query, plan.sample, plan.broad_floor)
            page = self._newest_matching(conn, query, plan.broad_floor) if found is None else found
        elif sort == "relevance":
            page = self._ranked(conn, query, plan.terms_only, plan.floor)
        else:
            page = _pairs(conn.exec_driver_sql(*fts5_sql.date_page(query, where)))
        rows = self._page_rows(conn, page)
        hits = [BackendHit(fts5_sql.row_document(row), None if rank is None else -rank) for row, rank in rows]
        next_cursor = None
        if len(page) == query.size and rows:
            last, last_rank = rows[-1]
            values = [last_rank, last[0]] if sort == "relevance" else [last[9], last[0]]
            next_cursor = encode_cursor(sort, values)
        return hits, next_cursor

    @staticmethod
    def _page_rows(
        conn: Connection, page: Sequence[tuple[int, float | None]]
    ) -> list[tuple[Sequence[Any], float | None]]:
        """The rows of a page's ids with their scores, in the page's order (minus any deleted meanwhile)."""
        if not page:
            return []
        rows = conn.exec_driver_sql(*fts5_sql.page_rows([complaint_id for complaint_id, _ in page])).all()
        by_id = {row[0]: row for row in rows}
        return [(by_id[complaint_id], score) for complaint_id, score in page if complaint_id in by_id]

    def _ranked(
        self, conn: Connection, query: SearchQuery, terms_only: bool, floor: int | None
    ) -> list[tuple[int, float | None]]:
        """Best bm25 first; over the newest ``SAMPLE_LIMIT`` matches only when ``floor`` is set."""
        return _pairs(conn.exec_driver_sql(*fts5_sql.ranked_page(query, terms_only=terms_only, floor=floor)))

    def _newest_in_sample(
        self, conn: Connection, query: SearchQuery, sample: str, floor: int
    ) -> list[tuple[int, float | None]] | None:
        """Date order for broad terms from the newest matches by id, when they hold the page.

        Ids rise with filing time (assigned at intake), so the newest complaints by date are among the
        newest matches by id; those older by id yet newer than the page's last hit (bulk imports of other
        dates) are found through the date index and merged in, so the page is exact. None when the sample
        cannot answer (too few of it pass the filters, or too many such complaints): then walk instead.
        """
        wanted = query.offset + query.size
        newest: list[tuple[int, int]] = [
            (created_ms, complaint_id)
            for created_ms, complaint_id in conn.exec_driver_sql(
                *fts5_sql.sample_by_date(query, sample, wanted)
            )
        ]
        if len(newest) < wanted:
            return None
        statement = fts5_sql.outsiders(query, newest[-1], floor, OUTSIDERS_MAX + 1)
        outsiders = list(conn.exec_driver_sql(*statement).scalars())
        if len(outsiders) > OUTSIDERS_MAX:
            return None
        if outsiders:
            newest = sorted([*newest, *self._matching(conn, query, outsiders)], reverse=True)
        return [(complaint_id, None) for _, complaint_id in newest[query.offset : wanted]]

    def _matching(self, conn: Connection, query: SearchQuery, ids: list[int]) -> list[tuple[int, int]]:
        """``(created_ms, id)`` of those ``ids`` matching the terms, each checked by an FTS5 rowid lookup."""
        rows = conn.exec_driver_sql(*fts5_sql.matching(ids, fts5_sql.query_match(query)))
        return [(created_ms, complaint_id) for created_ms, complaint_id in rows]

    def _newest_matching(
        self, conn: Connection, query: SearchQuery, floor: int
    ) -> list[tuple[int, float | None]]:
        """Date order for broad terms: walk the date index and keep the complaints whose id matches.

        Each batch of ids is checked with one FTS5 query bounded to the batch's id range, so the work
        grows with how far down the page is, not with how many complaints match; the first batch is
        sized from how densely the newest matches (``floor`` on) lie. Exact whatever the ids; fastest
        when ids rise with filing time (they do, being assigned at intake).
        """
        match = fts5_sql.query_match(query)
        where = fts5_sql.filters(query, terms=False)
        last: tuple[int, int] | None = None
        if query.cursor:
            created_ms, last_id = decode_cursor(query.cursor, "date", (int, int))
            last = (created_ms, last_id)
        wanted = query.offset + query.size
        found: list[int] = []
        newest_id = conn.exec_driver_sql(*fts5_sql.newest_id()).scalar_one() or floor
        density = SAMPLE_LIMIT / max(1, newest_id - floor + 1)  # share of recent complaints matching
        batch_size = min(max(256, int(2 * wanted / density)), WALK_BATCH_MAX)
        while len(found) < wanted:
            batch = conn.exec_driver_sql(*fts5_sql.date_batch(where, last, batch_size)).all()
            if not batch:
                break
            ids = [row[0] for row in batch]
            matched = {
                row[0] for row in conn.exec_driver_sql(*fts5_sql.matches_between(match, min(ids), max(ids)))
            }
            found.extend(i for i in ids if i in matched)
            last = (batch[-1][1], batch[-1][0])
            batch_size = min(batch_size * 2, WALK_BATCH_MAX)
        return [(complaint_id, None) for complaint_id in found[query.offset : wanted]]

    def _histogram(
        self, conn: Connection, query: SearchQuery, where: fts5_sql.Where
    ) -> list[HistogramBucket]:
        rows = conn.exec_driver_sql(*fts5_sql.histogram(query, where)).all()
        return [HistogramBucket(dt.date.fromisoformat(bucket_start), count) for bucket_start, count in rows]

    def close(self) -> None:
        """The engine belongs to whoever built the backend."""
