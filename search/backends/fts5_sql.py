"""The FTS5 backend's SQL, built by pure functions: each returns a statement and its parameters.

Nothing here opens a connection, so every statement can be read and pinned by a golden test
(``tests/search/test_fts5_sql.py``); ``search.backends.fts5`` runs them. User text never reaches the SQL:
the MATCH expression is made of tokenizer terms and every value is a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from search.backends.base import from_millis, to_millis
from search.query import (
    FACET_FIELDS,
    MAX_FACET_VALUES,
    SearchDocument,
    SearchQuery,
    decode_cursor,
)

Statement = tuple[str, tuple[Any, ...]]
COLUMNS = (
    "id, tracking_code, title, text, nature, industry, district, merchant, status, created_ms, "
    "amount_cents, association_id, source_hash"
)
D_COLUMNS = ", ".join("d." + column for column in COLUMNS.split(", "))
FILTER_COLUMNS = f"id, {', '.join(FACET_FIELDS)}, created_ms, amount_cents, association_id"
BUCKET_SQL = {
    "day": "date(d.created_ms / 1000, 'unixepoch', '+8 hours')",
    "week": "date(d.created_ms / 1000, 'unixepoch', '+8 hours', '-6 days', 'weekday 1')",
    "month": "strftime('%Y-%m-01', d.created_ms / 1000, 'unixepoch', '+8 hours')",
}
# Later than the last hit of the previous page, in date order.
_BEFORE_CURSOR = " AND (d.created_ms < ? OR (d.created_ms = ? AND d.id < ?))"


def match_expression(term_groups: Sequence[Sequence[str]], association_id: int | None = None) -> str:
    """FTS5 MATCH text built from tokenizer terms (letters and digits only), never from user input.

    Terms match the ``tokens`` column only; with ``association_id`` also that association's scope.
    """
    terms = " AND ".join("(" + " OR ".join(f'"{term}"' for term in group) + ")" for group in term_groups)
    if association_id is None:
        return f"{{tokens}} : ({terms})"
    return f'{{tokens}} : ({terms}) AND {{scope}} : "{scope_term(association_id)}"'


def scope_term(association_id: int | None) -> str:
    return "" if association_id is None else f"a{int(association_id)}"


def query_match(query: SearchQuery) -> str:
    return match_expression(query.term_groups, query.association_id)


# --- documents -------------------------------------------------------------------------------------


def document_row(document: SearchDocument) -> tuple[Any, ...]:
    """A document as the ``search_docs`` row of ``COLUMNS``."""
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


def row_document(row: Sequence[Any]) -> SearchDocument:
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


def upsert_statements(documents: Sequence[SearchDocument], suffix: str = "") -> list[tuple[str, list[Any]]]:
    """Statements (each run over many parameter rows) replacing the documents' entries."""
    return [
        (f"DELETE FROM search_fts{suffix} WHERE rowid = ?", [(d.id,) for d in documents]),
        (
            f"INSERT OR REPLACE INTO search_docs{suffix} ({COLUMNS}) VALUES ({', '.join('?' * 13)})",
            [document_row(d) for d in documents],
        ),
        (
            f"INSERT INTO search_fts{suffix} (rowid, tokens, scope) VALUES (?, ?, ?)",
            [(d.id, d.tokens, scope_term(d.association_id)) for d in documents],
        ),
    ]


def hashes_page(after_id: int, size: int) -> Statement:
    return ("SELECT id, source_hash FROM search_docs WHERE id > ? ORDER BY id LIMIT ?", (after_id, size))


# --- filters ---------------------------------------------------------------------------------------


class Where:
    """SQL conditions and their parameters, built from the query's filters."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def filters(
    query: SearchQuery,
    *,
    without: str | None = None,
    terms: bool = True,
    floor: int | None = None,
    matched: str | None = None,
    scope: bool = True,
) -> Where:
    """``floor`` keeps only matches with an id at least that (the newest of a broad match);
    ``matched`` is the JSON list of the matching ids when already known (FTS5 then runs no more);
    ``scope=False`` leaves out the association, which a match with terms already holds."""
    where = Where()
    if terms and query.term_groups:
        if matched is not None:
            where.add("d.id IN (SELECT value FROM json_each(?))", matched)
        elif floor is None:
            where.add("d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)", query_match(query))
        else:
            where.add(
                "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid >= ?)",
                query_match(query),
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


def has_filters_beyond_terms(query: SearchQuery) -> bool:
    """Whether anything but the terms and the scope (both inside the MATCH) narrows the search."""
    return bool(filters(query, terms=False, scope=False).clauses)


def _date_cursor(query: SearchQuery) -> tuple[str, list[Any]]:
    if not query.cursor:
        return "", []
    created_ms, last_id = decode_cursor(query.cursor, "date", (int, int))
    return _BEFORE_CURSOR, [created_ms, created_ms, last_id]


# --- matching and ordering -------------------------------------------------------------------------


def newest_matches(match: str, limit: int) -> Statement:
    """The ids of the newest ``limit`` matches of ``match``."""
    return (
        "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        (match, limit),
    )


def newest_in_scope(association_id: int | None, limit: int) -> Statement:
    """The newest ``limit`` complaints by filing time of an association (all: ``None``)."""
    scoped = association_id is not None
    scope, params = ("d.association_id = ?", (association_id,)) if scoped else ("1", ())
    return (
        f"SELECT d.id FROM search_docs d WHERE {scope} ORDER BY d.created_ms DESC, d.id DESC LIMIT ?",
        (*params, limit),
    )


def page_rows(ids: Sequence[int]) -> Statement:
    """The ``search_docs`` rows of a page's ids (any order)."""
    return (
        f"SELECT {D_COLUMNS} FROM search_docs d WHERE d.id IN ({', '.join('?' * len(ids))})",
        tuple(ids),
    )


def date_page(query: SearchQuery, where: Where) -> Statement:
    """A page by date of everything ``where`` keeps: ``(id, NULL)`` rows."""
    before, cursor_params = _date_cursor(query)
    return (
        f"SELECT d.id, NULL FROM search_docs d WHERE {where.sql()}{before} "
        "ORDER BY d.created_ms DESC, d.id DESC LIMIT ? OFFSET ?",
        (*where.params, *cursor_params, query.size, query.offset),
    )


def ranked_page(query: SearchQuery, *, terms_only: bool, floor: int | None) -> Statement:
    """A page by bm25, best first: ``(id, rank)`` rows; over the newest matches only when ``floor`` is set.

    ``terms_only``: nothing but the terms and the scope narrows the search, so FTS5 ranks and cuts alone.
    """
    bounded = "" if floor is None else f" AND search_fts.rowid >= {int(floor)}"
    params: list[Any] = [query_match(query)]
    after = ""
    if query.cursor:
        rank, last_id = decode_cursor(query.cursor, "relevance", ((float, int), int))
        after = " AND (search_fts.rank > ? OR (search_fts.rank = ? AND search_fts.rowid < ?))"
    if terms_only:
        select = (
            f"SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ?{bounded}{after} "
            "ORDER BY rank, rowid DESC LIMIT ? OFFSET ?"
        )
    else:
        where = filters(query, terms=False)
        params += where.params
        select = (
            "SELECT d.id, search_fts.rank FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid "
            f"WHERE search_fts MATCH ?{bounded} AND {where.sql()}{after} "
            "ORDER BY search_fts.rank, d.id DESC LIMIT ? OFFSET ?"
        )
    if query.cursor:
        params += [rank, rank, last_id]
    return select, (*params, query.size, query.offset)


def sample_by_date(query: SearchQuery, sample: str, wanted: int) -> Statement:
    """``(created_ms, id)`` of the first ``wanted`` of the sampled matches passing the filters, by date."""
    where = filters(query, terms=False)
    before, cursor_params = _date_cursor(query)
    return (
        "SELECT d.created_ms, d.id FROM search_docs d WHERE d.id IN (SELECT value FROM json_each(?)) "
        f"AND {where.sql()}{before} ORDER BY d.created_ms DESC, d.id DESC LIMIT ?",
        (sample, *where.params, *cursor_params, wanted),
    )


def outsiders(query: SearchQuery, last: tuple[int, int], floor: int, limit: int) -> Statement:
    """Ids older than the sample (below ``floor``) yet newer by date than ``last`` (created_ms, id).

    ``+d.id``: the date index, not the id range, bounds this scan.
    """
    where = filters(query, terms=False)
    before, cursor_params = _date_cursor(query)
    last_ms, last_id = last
    return (
        "SELECT d.id FROM search_docs d WHERE d.created_ms >= ? AND (d.created_ms > ? OR d.id > ?) "
        f"AND +d.id < ? AND {where.sql()}{before} LIMIT ?",
        (last_ms, last_ms, last_id, floor, *where.params, *cursor_params, limit),
    )


def matching(ids: Sequence[int], match: str) -> Statement:
    """``(created_ms, id)`` of those ``ids`` matching, each checked by an FTS5 rowid lookup."""
    return (
        "SELECT d.created_ms, d.id FROM search_docs d JOIN json_each(?) j ON d.id = j.value "
        "WHERE EXISTS (SELECT 1 FROM search_fts WHERE search_fts MATCH ? AND rowid = j.value)",
        (json.dumps(list(ids)), match),
    )


def newest_id() -> Statement:
    return "SELECT max(id) FROM search_docs", ()


def date_batch(where: Where, last: tuple[int, int] | None, size: int) -> Statement:
    """The next ``size`` ``(id, created_ms)`` by date passing ``where``, after ``last`` (created_ms, id)."""
    condition, params = where.sql(), list(where.params)
    if last is not None:
        condition += _BEFORE_CURSOR
        params += [last[0], last[0], last[1]]
    return (
        f"SELECT d.id, d.created_ms FROM search_docs d WHERE {condition} "
        "ORDER BY d.created_ms DESC, d.id DESC LIMIT ?",
        (*params, size),
    )


def matches_between(match: str, low: int, high: int) -> Statement:
    return (
        "SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ?",
        (match, low, high),
    )


# --- counting ---------------------------------------------------------------------------------------


def bounded_total(query: SearchQuery, where: Where, *, terms_only: bool, limit: int) -> Statement:
    """How many match, counted up to ``limit + 1`` (inside FTS5 when only the terms narrow)."""
    if terms_only:  # counted inside FTS5, without a lookup per matching row
        counted, params = "SELECT 1 FROM search_fts WHERE search_fts MATCH ?", (query_match(query),)
    else:
        counted, params = f"SELECT 1 FROM search_docs d WHERE {where.sql()}", tuple(where.params)
    return f"SELECT count(*) FROM ({counted} LIMIT {int(limit) + 1})", params


def tally(query: SearchQuery, matched: str, *, count: bool) -> Statement:
    """The total (when ``count``: row ``-1``) and each facet's counts (row = its number) over known matches.

    The matches' filter columns are read once into a materialized table that every count reads,
    instead of each count looking every match up in ``search_docs`` again. Each facet ignores its own
    filter; only its ``MAX_FACET_VALUES`` most frequent values come back.
    """
    parts, params = [], [matched]
    if count:
        where = filters(query, terms=False)
        parts.append(f"SELECT -1, NULL, count(*) FROM d WHERE {where.sql()}")
        params += where.params
    for number, facet in enumerate(FACET_FIELDS if query.facets else ()):
        where = filters(query, without=facet, terms=False)
        parts.append(
            f"SELECT * FROM (SELECT {number}, d.{facet} AS value, count(*) AS n FROM d "
            f"WHERE {where.sql()} AND d.{facet} IS NOT NULL GROUP BY d.{facet} "
            f"ORDER BY n DESC, value LIMIT {MAX_FACET_VALUES})"
        )
        params += where.params
    return (
        f"WITH d AS MATERIALIZED (SELECT {FILTER_COLUMNS} FROM search_docs "
        f"WHERE id IN (SELECT value FROM json_each(?))) {' UNION ALL '.join(parts)}",
        tuple(params),
    )


def shared_facets(where: Where, shared: Sequence[str]) -> Statement:
    """``(number in shared, value, count)`` of facets that share one filter, in one pass (unordered)."""
    counted = " UNION ALL ".join(
        f"SELECT {number}, {facet}, count(*) FROM matched WHERE {facet} IS NOT NULL GROUP BY {facet}"
        for number, facet in enumerate(shared)
    )
    return (
        f"WITH matched AS MATERIALIZED (SELECT {', '.join('d.' + f for f in shared)} "
        f"FROM search_docs d WHERE {where.sql()}) {counted}",
        tuple(where.params),
    )


def facet_counts(query: SearchQuery, facet: str, floor: int | None, matched: str | None) -> Statement:
    """The most frequent values of one facet under every filter but its own."""
    where = filters(query, without=facet, floor=floor, matched=matched)
    return (
        f"SELECT d.{facet}, count(*) AS n FROM search_docs d "
        f"WHERE {where.sql()} AND d.{facet} IS NOT NULL GROUP BY d.{facet} "
        f"ORDER BY n DESC, d.{facet} LIMIT {MAX_FACET_VALUES}",
        tuple(where.params),
    )


def histogram(query: SearchQuery, where: Where) -> Statement:
    """``(first day, count)`` per day, week (from Monday) or month in China time."""
    bucket = BUCKET_SQL[query.histogram or "day"]
    return (
        f"SELECT {bucket} AS bucket, count(*) FROM search_docs d WHERE {where.sql()} "
        "GROUP BY bucket ORDER BY bucket",
        tuple(where.params),
    )
