"""SQLite FTS5 backend: the embedded default.

The index lives in the system database when that is SQLite (one file to back up, no server), and in a
sidecar SQLite file next to the data when the system database is PostgreSQL (``search.service`` decides).
Two tables: ``search_docs`` (the masked display fields and the filter columns) and the FTS5 table
``search_fts`` holding the space-joined tokenizer terms under the ``ascii`` tokenizer, which splits on the
spaces and nothing else, so SQLite matches exactly the terms the Elasticsearch backend matches; its
``scope`` column holds the complaint's association, so an association's search is one FTS5 query over its
own complaints (its newest matches, ranking and total), not a filter applied after the match.
Relevance is FTS5's bm25 over the terms; filters are SQL; facets are GROUP BY, counted on a second
connection while the first ranks the hits. A full rebuild fills ``*_next`` tables in committed chunks and
renames them over the live ones in one short transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine

from core.db import sqlite_file_lock
from search.backends.base import Progress, chunked, from_millis, to_millis
from search.query import (
    FACET_FIELDS,
    MAX_FACET_VALUES,
    TOTAL_LIMIT,
    BackendHit,
    BackendResult,
    FacetCount,
    HistogramBucket,
    SearchDocument,
    SearchQuery,
    TotalRelation,
    decode_cursor,
    encode_cursor,
)

log = logging.getLogger(__name__)
CHUNK = 1000
SAMPLE_LIMIT = 2000  # more matches than this: relevance and facets look at the newest this many only
WALK_BATCH_MAX = 16_384
TALLY_THREADS = 8  # searches whose facets are counted at the same time; more wait for a thread
OUTSIDERS_MAX = 1000  # complaints older by id, newer by date than a page from the sample: merged
MMAP_BYTES = 1 << 30  # read the index through memory mapping: a row lookup costs no read() call
_COLUMNS = (
    "id, tracking_code, title, text, nature, industry, district, merchant, status, created_ms, "
    "amount_cents, association_id, source_hash"
)
_BUCKET_SQL = {
    "day": "date(d.created_ms / 1000, 'unixepoch', '+8 hours')",
    "week": "date(d.created_ms / 1000, 'unixepoch', '+8 hours', '-6 days', 'weekday 1')",
    "month": "strftime('%Y-%m-01', d.created_ms / 1000, 'unixepoch', '+8 hours')",
}


def match_expression(term_groups: Sequence[Sequence[str]], association_id: int | None = None) -> str:
    """FTS5 MATCH text built from tokenizer terms (letters and digits only), never from user input.

    Terms match the ``tokens`` column only; with ``association_id`` also that association's scope.
    """
    terms = " AND ".join("(" + " OR ".join(f'"{term}"' for term in group) + ")" for group in term_groups)
    if association_id is None:
        return f"{{tokens}} : ({terms})"
    return f'{{tokens}} : ({terms}) AND {{scope}} : "{_scope(association_id)}"'


def _scope(association_id: int | None) -> str:
    return "" if association_id is None else f"a{int(association_id)}"


def _match(query: SearchQuery) -> str:
    return match_expression(query.term_groups, query.association_id)


def _create_fts(conn: Connection, suffix: str) -> None:
    """The FTS table, ranking by the terms alone: the scope column weighs nothing in bm25."""
    table = f"search_fts{suffix}"
    conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {table} USING fts5(tokens, scope, tokenize='ascii')")
    conn.exec_driver_sql(f"INSERT INTO {table} ({table}, rank) VALUES ('rank', 'bm25(1.0, 0.0)')")


def _fts_columns(conn: Connection) -> list[str]:
    return [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(search_fts)")]


def _add_scope(conn: Connection) -> None:
    """Give an index built before the scope column one, from its stored terms (no re-tokenizing), in
    one transaction: searches meanwhile read the old table."""
    log.info("search index: adding the association scope to the FTS5 table (once)")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts_scoped")
    _create_fts(conn, "_scoped")
    conn.exec_driver_sql(
        "INSERT INTO search_fts_scoped (rowid, tokens, scope) "
        "SELECT f.rowid, f.tokens, coalesce('a' || d.association_id, '') "
        "FROM search_fts f LEFT JOIN search_docs d ON d.id = f.rowid"
    )
    conn.exec_driver_sql("DROP TABLE search_fts")
    conn.exec_driver_sql("ALTER TABLE search_fts_scoped RENAME TO search_fts")


def _table_exists(conn: Connection, name: str) -> bool:
    found = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.first() is not None


def _create_tables(conn: Connection, suffix: str) -> None:
    """Create the document and FTS tables when missing.

    Index names are global in SQLite and survive the rename that swaps a rebuilt table in, so each new
    table's indexes get a fresh tag; they are created only with the table, never again.
    """
    if not _table_exists(conn, f"search_docs{suffix}"):
        tag = uuid.uuid4().hex[:8]
        conn.exec_driver_sql(
            f"CREATE TABLE search_docs{suffix} (id INTEGER PRIMARY KEY, "
            "tracking_code TEXT NOT NULL, title TEXT, text TEXT NOT NULL, nature TEXT, industry TEXT, "
            "district TEXT, merchant TEXT, status TEXT NOT NULL, created_ms INTEGER NOT NULL, "
            "amount_cents INTEGER, association_id INTEGER, source_hash TEXT NOT NULL)"
        )
        table = f"search_docs{suffix}"
        conn.exec_driver_sql(f"CREATE INDEX ix_search_docs_created_{tag} ON {table} (created_ms, id)")
        conn.exec_driver_sql(
            f"CREATE INDEX ix_search_docs_association_{tag} ON {table} (association_id, created_ms)"
        )
    if not _table_exists(conn, f"search_fts{suffix}"):
        _create_fts(conn, suffix)


def _row(document: SearchDocument) -> tuple[Any, ...]:
    return (
        document.id,
        document.tracking_code,
        document.title,
        document.text,
        document.nature,
        document.industry,
        document.district,
        document.merchant,
        document.status,
        to_millis(document.created_at),
        document.amount_cents,
        document.association_id,
        document.source_hash,
    )


def _document(row: Sequence[Any]) -> SearchDocument:
    return SearchDocument(
        id=row[0],
        tracking_code=row[1],
        title=row[2],
        text=row[3],
        tokens="",
        nature=row[4],
        industry=row[5],
        district=row[6],
        merchant=row[7],
        status=row[8],
        created_at=from_millis(row[9]),
        amount_cents=row[10],
        association_id=row[11],
        source_hash=row[12],
    )


def _write(conn: Connection, documents: Sequence[SearchDocument], suffix: str = "") -> None:
    ids = [(d.id,) for d in documents]
    conn.exec_driver_sql(f"DELETE FROM search_fts{suffix} WHERE rowid = ?", ids)
    conn.exec_driver_sql(
        f"INSERT OR REPLACE INTO search_docs{suffix} ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
        [_row(d) for d in documents],
    )
    conn.exec_driver_sql(
        f"INSERT INTO search_fts{suffix} (rowid, tokens, scope) VALUES (?, ?, ?)",
        [(d.id, d.tokens, _scope(d.association_id)) for d in documents],
    )


_FILTER_COLUMNS = f"id, {', '.join(FACET_FIELDS)}, created_ms, amount_cents, association_id"
_D_COLUMNS = ", ".join("d." + column for column in _COLUMNS.split(", "))


def _newest_matches(conn: Connection, match: str) -> tuple[list[int], int | None]:
    """The ids of the newest ``SAMPLE_LIMIT`` matches, and the lowest of them when more match (else None)."""
    ids = list(
        conn.exec_driver_sql(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            (match, SAMPLE_LIMIT + 1),
        )
        .scalars()
        .all()
    )
    if len(ids) > SAMPLE_LIMIT:
        return ids[:SAMPLE_LIMIT], ids[SAMPLE_LIMIT - 1]
    return ids, None


def _pairs(rows: Iterable[Sequence[Any]]) -> list[tuple[int, float | None]]:
    return [(row[0], row[1]) for row in rows]


def _page_rows(
    conn: Connection, page: Sequence[tuple[int, float | None]]
) -> list[tuple[Sequence[Any], float | None]]:
    """The rows of a page's ids with their scores, in the page's order (minus any deleted meanwhile)."""
    if not page:
        return []
    rows = conn.exec_driver_sql(
        f"SELECT {_D_COLUMNS} FROM search_docs d WHERE d.id IN ({', '.join('?' * len(page))})",
        tuple(complaint_id for complaint_id, _ in page),
    ).all()
    by_id = {row[0]: row for row in rows}
    return [(by_id[complaint_id], score) for complaint_id, score in page if complaint_id in by_id]


def _newest_in_scope(conn: Connection, query: SearchQuery) -> str:
    """The newest ``SAMPLE_LIMIT`` complaints an unworded search sees (JSON ids): with no terms every
    complaint matches, and counting facets over a million of them takes seconds."""
    scoped = query.association_id is not None
    scope, params = ("d.association_id = ?", (query.association_id,)) if scoped else ("1", ())
    ids = conn.exec_driver_sql(
        f"SELECT d.id FROM search_docs d WHERE {scope} ORDER BY d.created_ms DESC, d.id DESC LIMIT ?",
        (*params, SAMPLE_LIMIT),
    ).scalars()
    return json.dumps(list(ids))


class _Where:
    """SQL conditions and their parameters, built from the query's filters."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def _filters(
    query: SearchQuery,
    *,
    without: str | None = None,
    terms: bool = True,
    floor: int | None = None,
    matched: str | None = None,
    scope: bool = True,
) -> _Where:
    """``floor`` keeps only matches with an id at least that (the newest ``SAMPLE_LIMIT``);
    ``matched`` is the JSON list of the matching ids when already known (FTS5 then runs no more);
    ``scope=False`` leaves out the association, which a match with terms already holds."""
    where = _Where()
    if terms and query.term_groups:
        if matched is not None:
            where.add("d.id IN (SELECT value FROM json_each(?))", matched)
        elif floor is None:
            where.add(
                "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)",
                _match(query),
            )
        else:
            where.add(
                "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid >= ?)",
                _match(query),
                floor,
            )
    if scope and query.association_id is not None:
        where.add("d.association_id = ?", query.association_id)
    for facet in FACET_FIELDS:
        values, excluded = query.values(facet), query.excluded(facet)
        if values and facet != without:
            where.add(f"d.{facet} IN ({', '.join('?' * len(values))})", *values)
        if excluded:
            where.add(
                f"(d.{facet} IS NULL OR d.{facet} NOT IN ({', '.join('?' * len(excluded))}))", *excluded
            )
    if query.created_from is not None:
        where.add("d.created_ms >= ?", to_millis(query.created_from))
    if query.created_to is not None:
        where.add("d.created_ms < ?", to_millis(query.created_to))
    if query.amount_min_cents is not None:
        where.add("d.amount_cents >= ?", query.amount_min_cents)
    if query.amount_max_cents is not None:
        where.add("d.amount_cents <= ?", query.amount_max_cents)
    return where


_Tally = tuple[int | None, dict[str, list[FacetCount]]]  # a total (None: not counted) and facets


@lru_cache(maxsize=1)
def _tally_threads() -> ThreadPoolExecutor:
    """Threads that count totals and facets beside the searches ranking their hits (one per search)."""
    return ThreadPoolExecutor(max_workers=TALLY_THREADS, thread_name_prefix="fts5-tally")


class Fts5Backend:
    name = "sqlite-fts5"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_index(self) -> None:
        """Create the tables, or give old ones the scope column; one process at a time (API workers
        start together, and pysqlite runs DDL outside a transaction, so checking first is no guard)."""
        with sqlite_file_lock(self.engine.url, "search-index"), self.engine.begin() as conn:
            _create_tables(conn, "")
            if "scope" not in _fts_columns(conn):
                _add_scope(conn)

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        written = 0
        for chunk in chunked(documents, CHUNK):
            with self.engine.begin() as conn:
                _write(conn, chunk)
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
                rows = conn.exec_driver_sql(
                    "SELECT id, source_hash FROM search_docs WHERE id > ? ORDER BY id LIMIT 10000", (last_id,)
                ).all()
            if not rows:
                return
            yield from ((row[0], row[1]) for row in rows)
            last_id = rows[-1][0]

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        with self.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts_next")
            conn.exec_driver_sql("DROP TABLE IF EXISTS search_docs_next")
            _create_tables(conn, "_next")
        written = self._write_behind(chunked(documents, CHUNK), progress)
        with self.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
            conn.exec_driver_sql("DROP TABLE IF EXISTS search_docs")
            conn.exec_driver_sql("ALTER TABLE search_docs_next RENAME TO search_docs")
            conn.exec_driver_sql("ALTER TABLE search_fts_next RENAME TO search_fts")
        return written

    def _write_behind(self, chunks: Iterator[list[SearchDocument]], progress: Progress | None) -> int:
        """Write each chunk on a second thread while the next one is made (SQLite leaves the GIL).

        At most two chunks wait in the queue, so memory stays bounded whatever the index size.
        """
        pending: queue.Queue[list[SearchDocument] | None] = queue.Queue(maxsize=2)
        failure: list[BaseException] = []
        written = 0

        def writer() -> None:
            nonlocal written
            while (chunk := pending.get()) is not None:
                if failure:
                    continue
                try:
                    with self.engine.begin() as conn:
                        _write(conn, chunk, "_next")
                    written += len(chunk)
                    if progress is not None:
                        progress(written)
                except BaseException as error:
                    failure.append(error)

        thread = threading.Thread(target=writer, name="fts5-rebuild-writer")
        thread.start()
        try:
            for chunk in chunks:
                if failure:
                    break
                pending.put(chunk)
        finally:
            pending.put(None)
            thread.join()
        if failure:
            raise failure[0]
        return written

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection that reads the index through memory mapping."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA mmap_size={MMAP_BYTES}")
            yield conn

    def search(self, query: SearchQuery) -> BackendResult:
        with self._reading() as conn:
            match = _match(query) if query.term_groups else None
            newest, broad_floor = _newest_matches(conn, match) if match else ([], None)
            floor = None if query.exhaustive else broad_floor
            sample = json.dumps(newest) if match else None
            matched = sample if floor is not None or broad_floor is None else None
            where = _filters(query, floor=floor, matched=matched)
            terms_only = match is not None and not _filters(query, terms=False, scope=False).clauses
            tally: Future[_Tally] | None = None
            if matched is not None and (query.facets or not terms_only):
                tally = self._tally_beside(query, matched, count=not terms_only)
            hits: list[BackendHit] = []
            next_cursor: str | None = None
            if query.size:
                hits, next_cursor = self._hits(conn, query, where, terms_only, floor, (sample, broad_floor))
            total, facets = tally.result() if tally is not None else (None, {})
            if total is None:
                if terms_only:  # counted inside FTS5, without a lookup per matching row
                    counted = "SELECT 1 FROM search_fts WHERE search_fts MATCH ?"
                    params: tuple[Any, ...] = (match,)
                else:
                    counted = f"SELECT 1 FROM search_docs d WHERE {where.sql()}"
                    params = tuple(where.params)
                total = conn.exec_driver_sql(
                    f"SELECT count(*) FROM ({counted} LIMIT {TOTAL_LIMIT + 1})", params
                ).scalar_one()
            relation: TotalRelation = "eq"
            if total > TOTAL_LIMIT or (floor is not None and not terms_only):
                total, relation = min(total, TOTAL_LIMIT), "gte"
            browse_sampled = match is None and relation == "gte" and not query.exhaustive
            if query.facets and browse_sampled:
                _, facets = self._tally_matched(conn, query, _newest_in_scope(conn, query), count=False)
            elif query.facets and not facets:
                facets = self._facets(conn, query, floor, matched)
            histogram = self._histogram(conn, query, _filters(query)) if query.histogram else []
        sampled = (floor is not None or browse_sampled) and (
            query.facets or (query.size and query.effective_sort == "relevance")
        )
        return BackendResult(
            total=total,
            hits=hits,
            facets=facets,
            histogram=histogram,
            next_cursor=next_cursor,
            total_relation=relation,
            sampled_newest=SAMPLE_LIMIT if sampled else None,
        )

    def _hits(
        self,
        conn: Connection,
        query: SearchQuery,
        where: _Where,
        terms_only: bool,
        floor: int | None,
        newest: tuple[str | None, int | None],
    ) -> tuple[list[BackendHit], str | None]:
        """Order first, on ids and sort keys only; then read the page's rows (sorting wide rows is slow).

        ``newest``: the newest matches (JSON ids) and their lowest id when more match (else None).
        """
        sort = query.effective_sort
        sample, broad_floor = newest
        page: Sequence[tuple[int, float | None]]
        if sort == "date" and broad_floor is not None:
            assert sample is not None
            found = self._newest_in_sample(conn, query, sample, broad_floor)
            page = self._newest_matching(conn, query, broad_floor) if found is None else found
        elif sort == "relevance":
            page = self._ranked(conn, query, terms_only, floor)
        else:
            params = list(where.params)
            select = f"SELECT d.id, NULL FROM search_docs d WHERE {where.sql()}"
            if query.cursor:
                created_ms, last_id = decode_cursor(query.cursor, sort, (int, int))
                select += " AND (d.created_ms < ? OR (d.created_ms = ? AND d.id < ?))"
                params += [created_ms, created_ms, last_id]
            page = _pairs(
                conn.exec_driver_sql(
                    f"{select} ORDER BY d.created_ms DESC, d.id DESC LIMIT ? OFFSET ?",
                    (*params, query.size, query.offset),
                )
            )
        rows = _page_rows(conn, page)
        hits = [BackendHit(_document(row), None if rank is None else -rank) for row, rank in rows]
        next_cursor = None
        if len(page) == query.size and rows:
            last, last_rank = rows[-1]
            values = [last_rank, last[0]] if sort == "relevance" else [last[9], last[0]]
            next_cursor = encode_cursor(sort, values)
        return hits, next_cursor

    def _ranked(
        self, conn: Connection, query: SearchQuery, terms_only: bool, floor: int | None
    ) -> list[tuple[int, float | None]]:
        """Best bm25 first; over the newest ``SAMPLE_LIMIT`` matches only when ``floor`` is set."""
        bounded = "" if floor is None else f" AND search_fts.rowid >= {int(floor)}"
        params: list[Any] = [_match(query)]
        after = ""
        if query.cursor:
            rank, last_id = decode_cursor(query.cursor, "relevance", ((float, int), int))
            after = " AND (search_fts.rank > ? OR (search_fts.rank = ? AND search_fts.rowid < ?))"
        if terms_only:  # rank and cut inside FTS5
            select = (
                f"SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ?{bounded}{after} "
                "ORDER BY rank, rowid DESC LIMIT ? OFFSET ?"
            )
        else:
            where = _filters(query, terms=False)
            params += where.params
            select = (
                "SELECT d.id, search_fts.rank FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid "
                f"WHERE search_fts MATCH ?{bounded} AND {where.sql()}{after} "
                "ORDER BY search_fts.rank, d.id DESC LIMIT ? OFFSET ?"
            )
        if query.cursor:
            params += [rank, rank, last_id]
        return _pairs(conn.exec_driver_sql(select, (*params, query.size, query.offset)))

    def _newest_in_sample(
        self, conn: Connection, query: SearchQuery, sample: str, floor: int
    ) -> list[tuple[int, float | None]] | None:
        """Date order for broad terms from the newest matches by id, when they hold the page.

        Ids rise with filing time (assigned at intake), so the newest complaints by date are among the
        newest matches by id; those older by id yet newer than the page's last hit (bulk imports of other
        dates) are found through the date index and merged in, so the page is exact. None when the sample
        cannot answer (too few of it pass the filters, or too many such complaints): then walk instead.
        """
        where = _filters(query, terms=False)
        wanted = query.offset + query.size
        before, before_params = "", []
        if query.cursor:
            created_ms, last_id = decode_cursor(query.cursor, "date", (int, int))
            before = " AND (d.created_ms < ? OR (d.created_ms = ? AND d.id < ?))"
            before_params = [created_ms, created_ms, last_id]
        newest: list[tuple[int, int]] = [
            (created_ms, complaint_id)
            for created_ms, complaint_id in conn.exec_driver_sql(
                "SELECT d.created_ms, d.id FROM search_docs d WHERE d.id IN (SELECT value FROM json_each(?)) "
                f"AND {where.sql()}{before} ORDER BY d.created_ms DESC, d.id DESC LIMIT ?",
                (sample, *where.params, *before_params, wanted),
            )
        ]
        if len(newest) < wanted:
            return None
        last_ms, last_id = newest[-1]
        outsiders = list(  # "+d.id": the date index, not the id range, bounds this scan
            conn.exec_driver_sql(
                "SELECT d.id FROM search_docs d WHERE d.created_ms >= ? AND (d.created_ms > ? OR d.id > ?) "
                f"AND +d.id < ? AND {where.sql()}{before} LIMIT ?",
                (last_ms, last_ms, last_id, floor, *where.params, *before_params, OUTSIDERS_MAX + 1),
            ).scalars()
        )
        if len(outsiders) > OUTSIDERS_MAX:
            return None
        if outsiders:
            newest = sorted([*newest, *self._matching(conn, query, outsiders)], reverse=True)
        return [(complaint_id, None) for _, complaint_id in newest[query.offset : wanted]]

    def _matching(self, conn: Connection, query: SearchQuery, ids: list[int]) -> list[tuple[int, int]]:
        """``(created_ms, id)`` of those ``ids`` matching the terms, each checked by an FTS5 rowid lookup."""
        rows = conn.exec_driver_sql(
            "SELECT d.created_ms, d.id FROM search_docs d JOIN json_each(?) j ON d.id = j.value "
            "WHERE EXISTS (SELECT 1 FROM search_fts WHERE search_fts MATCH ? AND rowid = j.value)",
            (json.dumps(ids), _match(query)),
        )
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
        match = _match(query)
        where = _filters(query, terms=False)
        last: tuple[int, int] | None = None
        if query.cursor:
            created_ms, last_id = decode_cursor(query.cursor, "date", (int, int))
            last = (created_ms, last_id)
        wanted = query.offset + query.size
        found: list[int] = []
        newest_id = conn.exec_driver_sql("SELECT max(id) FROM search_docs").scalar_one() or floor
        density = SAMPLE_LIMIT / max(1, newest_id - floor + 1)  # share of recent complaints matching
        batch_size = min(max(256, int(2 * wanted / density)), WALK_BATCH_MAX)
        while len(found) < wanted:
            condition, params = where.sql(), list(where.params)
            if last is not None:
                condition += " AND (d.created_ms < ? OR (d.created_ms = ? AND d.id < ?))"
                params += [last[0], last[0], last[1]]
            batch = conn.exec_driver_sql(
                f"SELECT d.id, d.created_ms FROM search_docs d WHERE {condition} "
                "ORDER BY d.created_ms DESC, d.id DESC LIMIT ?",
                (*params, batch_size),
            ).all()
            if not batch:
                break
            ids = [row[0] for row in batch]
            matched = {
                row[0]
                for row in conn.exec_driver_sql(
                    "SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ?",
                    (match, min(ids), max(ids)),
                )
            }
            found.extend(i for i in ids if i in matched)
            last = (batch[-1][1], batch[-1][0])
            batch_size = min(batch_size * 2, WALK_BATCH_MAX)
        return [(complaint_id, None) for complaint_id in found[query.offset : wanted]]

    def _tally_beside(self, query: SearchQuery, matched: str, *, count: bool) -> Future[_Tally]:
        """``_tally_matched`` on a second connection, while the search's own ranks and reads the hits.

        SQLite leaves the GIL while it works, so the facets cost a search little more than its hits
        do. An in-memory database exists once per connection, so there it runs here, in turn.
        """

        def on_own_connection() -> _Tally:
            with self._reading() as conn:
                return self._tally_matched(conn, query, matched, count=count)

        if self.engine.url.database in (None, "", ":memory:"):
            done: Future[_Tally] = Future()
            done.set_result(on_own_connection())
            return done
        return _tally_threads().submit(on_own_connection)

    def _tally_matched(self, conn: Connection, query: SearchQuery, matched: str, *, count: bool) -> _Tally:
        """The total (when ``count``) and the facets over known matches, in one statement.

        The matches' filter columns are read once into a materialized table that every count reads,
        instead of each count looking every match up in ``search_docs`` again. Each facet ignores its own
        filter; only its ``MAX_FACET_VALUES`` most frequent values come back.
        """
        parts, params = [], [matched]
        if count:
            where = _filters(query, terms=False)
            parts.append(f"SELECT -1, NULL, count(*) FROM d WHERE {where.sql()}")
            params += where.params
        for number, facet in enumerate(FACET_FIELDS if query.facets else ()):
            where = _filters(query, without=facet, terms=False)
            parts.append(
                f"SELECT * FROM (SELECT {number}, d.{facet} AS value, count(*) AS n FROM d "
                f"WHERE {where.sql()} AND d.{facet} IS NOT NULL GROUP BY d.{facet} "
                f"ORDER BY n DESC, value LIMIT {MAX_FACET_VALUES})"
            )
            params += where.params
        rows = conn.exec_driver_sql(
            f"WITH d AS MATERIALIZED (SELECT {_FILTER_COLUMNS} FROM search_docs "
            f"WHERE id IN (SELECT value FROM json_each(?))) {' UNION ALL '.join(parts)}",
            tuple(params),
        ).all()
        total = next((n for number, _, n in rows if number == -1), None)
        facets: dict[str, list[FacetCount]] = {facet: [] for facet in FACET_FIELDS} if query.facets else {}
        for number, value, n in sorted(rows, key=lambda row: (row[0], -row[2], row[1] or "")):
            if number >= 0:  # UNION ALL promises no order, so sort here
                facets[FACET_FIELDS[number]].append(FacetCount(value, n))
        return total, facets

    def _facets(
        self, conn: Connection, query: SearchQuery, floor: int | None, matched: str | None
    ) -> dict[str, list[FacetCount]]:
        """Facets that share one filter (none has a value filtered) are counted in one pass."""
        filtered = [facet for facet in FACET_FIELDS if query.values(facet)]
        facets = {facet: self._facet(conn, query, facet, floor, matched) for facet in filtered}
        shared = [facet for facet in FACET_FIELDS if facet not in filtered]
        where = _filters(query, floor=floor, matched=matched)
        if shared:
            counted = " UNION ALL ".join(
                f"SELECT {number}, {facet}, count(*) FROM matched WHERE {facet} IS NOT NULL GROUP BY {facet}"
                for number, facet in enumerate(shared)
            )
            rows = conn.exec_driver_sql(
                f"WITH matched AS MATERIALIZED (SELECT {', '.join('d.' + f for f in shared)} "
                f"FROM search_docs d WHERE {where.sql()}) {counted}",
                tuple(where.params),
            ).all()
            for number, facet in enumerate(shared):
                ordered = sorted(
                    ((v, n) for i, v, n in rows if i == number), key=lambda item: (-item[1], item[0])
                )
                facets[facet] = [FacetCount(value, count) for value, count in ordered[:MAX_FACET_VALUES]]
        return {facet: facets[facet] for facet in FACET_FIELDS}

    def _facet(
        self, conn: Connection, query: SearchQuery, facet: str, floor: int | None, matched: str | None
    ) -> list[FacetCount]:
        where = _filters(query, without=facet, floor=floor, matched=matched)
        rows = conn.exec_driver_sql(
            f"SELECT d.{facet}, count(*) AS n FROM search_docs d "
            f"WHERE {where.sql()} AND d.{facet} IS NOT NULL GROUP BY d.{facet} "
            f"ORDER BY n DESC, d.{facet} LIMIT {MAX_FACET_VALUES}",
            tuple(where.params),
        ).all()
        return [FacetCount(value, count) for value, count in rows]

    def _histogram(self, conn: Connection, query: SearchQuery, where: _Where) -> list[HistogramBucket]:
        bucket = _BUCKET_SQL[query.histogram or "day"]
        rows = conn.exec_driver_sql(
            f"SELECT {bucket} AS bucket, count(*) FROM search_docs d WHERE {where.sql()} "
            "GROUP BY bucket ORDER BY bucket",
            tuple(where.params),
        ).all()
        return [HistogramBucket(dt.date.fromisoformat(bucket_start), count) for bucket_start, count in rows]

    def close(self) -> None:
        """The engine belongs to whoever built the backend."""
