"""SQLite FTS5 backend: the embedded default.

The index lives in the system database when that is SQLite (one file to back up, no server), and in a
sidecar SQLite file next to the data when the system database is PostgreSQL (``search.service`` decides).
Two tables: ``search_docs`` (the masked display fields and the filter columns) and the FTS5 table
``search_fts`` holding the space-joined tokenizer terms under the ``ascii`` tokenizer, which splits on the
spaces and nothing else, so SQLite matches exactly the terms the Elasticsearch backend matches.
Relevance is FTS5's bm25; filters are SQL; facets are GROUP BY. A full rebuild fills ``*_next`` tables
in committed chunks and renames them over the live ones in one short transaction.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from search.backends.base import Progress, chunked, from_millis, to_millis
from search.query import (
    FACET_FIELDS,
    MAX_FACET_VALUES,
    BackendHit,
    BackendResult,
    FacetCount,
    HistogramBucket,
    SearchDocument,
    SearchQuery,
    decode_cursor,
    encode_cursor,
)

CHUNK = 1000
_COLUMNS = (
    "id, tracking_code, title, text, nature, industry, district, merchant, status, created_ms, "
    "amount_cents, association_id, source_hash"
)
_BUCKET_SQL = {
    "day": "date(d.created_ms / 1000, 'unixepoch', '+8 hours')",
    "week": "date(d.created_ms / 1000, 'unixepoch', '+8 hours', '-6 days', 'weekday 1')",
    "month": "strftime('%Y-%m-01', d.created_ms / 1000, 'unixepoch', '+8 hours')",
}


def match_expression(term_groups: Sequence[Sequence[str]]) -> str:
    """FTS5 MATCH text built from tokenizer terms (letters and digits only), never from user input."""
    return " AND ".join("(" + " OR ".join(f'"{term}"' for term in group) + ")" for group in term_groups)


def _create_tables(conn: Connection, suffix: str) -> None:
    tag = uuid.uuid4().hex[:8]
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS search_docs{suffix} (id INTEGER PRIMARY KEY, "
        "tracking_code TEXT NOT NULL, title TEXT, text TEXT NOT NULL, nature TEXT, industry TEXT, "
        "district TEXT, merchant TEXT, "
        "status TEXT NOT NULL, created_ms INTEGER NOT NULL, amount_cents INTEGER, association_id INTEGER, "
        "source_hash TEXT NOT NULL)"
    )
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS ix_search_docs_created_{tag} ON search_docs{suffix} (created_ms, id)"
    )
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS ix_search_docs_association_{tag} "
        f"ON search_docs{suffix} (association_id, created_ms)"
    )
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS search_fts{suffix} USING fts5(tokens, tokenize='ascii')"
    )


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
        f"INSERT INTO search_fts{suffix} (rowid, tokens) VALUES (?, ?)", [(d.id, d.tokens) for d in documents]
    )


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


def _filters(query: SearchQuery, *, without: str | None = None, terms: bool = True) -> _Where:
    where = _Where()
    if terms and query.term_groups:
        where.add(
            "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)",
            match_expression(query.term_groups),
        )
    if query.association_id is not None:
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


class Fts5Backend:
    name = "sqlite-fts5"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_index(self) -> None:
        with self.engine.begin() as conn:
            _create_tables(conn, "")

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        written = 0
        for chunk in chunked(documents, CHUNK):
            with self.engine.begin() as conn:
                _write(conn, chunk)
            written += len(chunk)
        return written

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

    def search(self, query: SearchQuery) -> BackendResult:
        with self.engine.connect() as conn:
            where = _filters(query)
            terms_only = bool(query.term_groups) and not _filters(query, terms=False).clauses
            if terms_only:  # counted inside FTS5, without a lookup per matching row
                total = conn.exec_driver_sql(
                    "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?",
                    (match_expression(query.term_groups),),
                ).scalar_one()
            else:
                total = conn.exec_driver_sql(
                    f"SELECT count(*) FROM search_docs d WHERE {where.sql()}", tuple(where.params)
                ).scalar_one()
            hits, next_cursor = self._hits(conn, query, where, terms_only) if query.size else ([], None)
            facets = self._facets(conn, query) if query.facets else {}
            histogram = self._histogram(conn, query, where) if query.histogram else []
        return BackendResult(
            total=total, hits=hits, facets=facets, histogram=histogram, next_cursor=next_cursor
        )

    def _hits(
        self, conn: Connection, query: SearchQuery, where: _Where, terms_only: bool
    ) -> tuple[list[BackendHit], str | None]:
        sort = query.effective_sort
        if sort == "relevance":
            where = _filters(query, terms=False)
        params = list(where.params)
        if sort == "relevance" and terms_only:  # rank and cut inside FTS5, look up one page only
            ranked = "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ?"
            params = [match_expression(query.term_groups)]
            if query.cursor:
                rank, last_id = decode_cursor(query.cursor, sort, ((float, int), int))
                ranked += " AND (rank > ? OR (rank = ? AND rowid < ?))"
                params += [rank, rank, last_id]
            select = (
                f"SELECT {', '.join('d.' + c for c in _COLUMNS.split(', '))}, f.rank "
                f"FROM ({ranked} ORDER BY rank, rowid DESC LIMIT ? OFFSET ?) f "
                "JOIN search_docs d ON d.id = f.rowid"
            )
            params += [query.size, query.offset]
            rows = conn.exec_driver_sql(f"{select} ORDER BY f.rank, d.id DESC", tuple(params)).all()
        elif sort == "relevance":
            select = (
                f"SELECT {', '.join('d.' + c for c in _COLUMNS.split(', '))}, search_fts.rank "
                "FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid "
                f"WHERE search_fts MATCH ? AND {where.sql()}"
            )
            params.insert(0, match_expression(query.term_groups))
            order = "ORDER BY search_fts.rank, d.id DESC"
            if query.cursor:
                rank, last_id = decode_cursor(query.cursor, sort, ((float, int), int))
                select += " AND (search_fts.rank > ? OR (search_fts.rank = ? AND d.id < ?))"
                params += [rank, rank, last_id]
        else:
            select = f"SELECT {', '.join('d.' + c for c in _COLUMNS.split(', '))}, NULL FROM search_docs d "
            select += f"WHERE {where.sql()}"
            order = "ORDER BY d.created_ms DESC, d.id DESC"
            if query.cursor:
                created_ms, last_id = decode_cursor(query.cursor, sort, (int, int))
                select += " AND (d.created_ms < ? OR (d.created_ms = ? AND d.id < ?))"
                params += [created_ms, created_ms, last_id]
        if not (sort == "relevance" and terms_only):
            rows = conn.exec_driver_sql(
                f"{select} {order} LIMIT ? OFFSET ?", (*params, query.size, query.offset)
            ).all()
        hits = [BackendHit(_document(row), None if row[13] is None else -row[13]) for row in rows]
        next_cursor = None
        if len(rows) == query.size:
            last = rows[-1]
            values = [last[13], last[0]] if sort == "relevance" else [last[9], last[0]]
            next_cursor = encode_cursor(sort, values)
        return hits, next_cursor

    def _facets(self, conn: Connection, query: SearchQuery) -> dict[str, list[FacetCount]]:
        """Facets that share one filter (none has a value filtered) are counted in one pass."""
        filtered = [facet for facet in FACET_FIELDS if query.values(facet)]
        facets = {facet: self._facet(conn, query, facet) for facet in filtered}
        shared = [facet for facet in FACET_FIELDS if facet not in filtered]
        where = _filters(query)
        counters: dict[str, Counter[str]] = {facet: Counter() for facet in shared}
        rows = conn.exec_driver_sql(
            f"SELECT {', '.join('d.' + f for f in shared)} FROM search_docs d WHERE {where.sql()}",
            tuple(where.params),
        )
        for row in rows:
            for facet, value in zip(shared, row, strict=True):
                if value is not None:
                    counters[facet][value] += 1
        for facet in shared:
            ordered = sorted(counters[facet].items(), key=lambda item: (-item[1], item[0]))
            facets[facet] = [FacetCount(value, count) for value, count in ordered[:MAX_FACET_VALUES]]
        return {facet: facets[facet] for facet in FACET_FIELDS}

    def _facet(self, conn: Connection, query: SearchQuery, facet: str) -> list[FacetCount]:
        where = _filters(query, without=facet)
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
