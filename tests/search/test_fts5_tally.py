"""FTS5 counts a search's total and facets on a second connection while it ranks the hits: the
answers must be those of one connection, under concurrent searches and on an in-memory database."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.db import make_engine
from search.backends.fts5 import Fts5Backend
from search.query import BackendResult, SearchDocument, SearchQuery
from search.service import prepare
from tests.utils.search import search_document

NATURES = ("价格", "质量", "虚假宣传")
DISTRICTS = ("道里区", "南岗区", "香坊区", "松北区")


def _documents(count: int) -> list[SearchDocument]:
    return [
        search_document(
            number,
            "口罩 涨价" if number % 2 else "口罩 质量",
            dt.datetime(2025, 1, 1) + dt.timedelta(hours=number),
            nature=NATURES[number % 3],
            industry="pharmacy" if number % 5 else "supermarket",
            district=DISTRICTS[number % 4],
            merchant=f"药店{number % 7}",
            status="received" if number % 4 else "closed",
            amount_cents=number * 100,
            association_id=1 + number % 2,
        )
        for number in range(1, count + 1)
    ]


QUERIES = [
    SearchQuery(q="口罩", size=5),
    SearchQuery(q="口罩", nature=("价格",), not_status=("closed",), size=5),
    SearchQuery(q="涨价", district=("道里区", "南岗区"), sort="date", size=5),
    SearchQuery(q="质量", industry=("pharmacy",), amount_min=10, size=0),
]


def _expected_facets(documents: list[SearchDocument], query: SearchQuery, facet: str) -> dict[str, int]:
    """Counts by hand: every filter but the facet's own."""
    counts: dict[str, int] = {}
    for document in documents:
        tokens = set(document.tokens.split())
        if not all(tokens & set(group) for group in query.term_groups):
            continue
        if any(
            values and getattr(document, name) not in values
            for name, values in (
                ("nature", query.nature),
                ("industry", query.industry),
                ("district", query.district),
                ("status", query.status),
            )
            if name != facet
        ):
            continue
        if document.status in query.not_status:
            continue
        if query.amount_min is not None and (document.amount_cents or 0) < query.amount_min * 100:
            continue
        value = getattr(document, facet)
        counts[value] = counts.get(value, 0) + 1
    return counts


def _answers(result: BackendResult) -> tuple[object, ...]:
    return (
        result.total,
        [hit.document.id for hit in result.hits],
        {facet: [(f.value, f.count) for f in counts] for facet, counts in result.facets.items()},
    )


def test_concurrent_searches_get_their_own_totals_and_facets(tmp_path: Path) -> None:
    documents = _documents(400)
    engine = make_engine(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    backend = Fts5Backend(engine)
    backend.ensure_index()
    backend.upsert(documents)
    queries = [prepare(query) for query in QUERIES]
    for query in queries:
        result = backend.search(query)
        for facet in ("nature", "district", "industry"):
            assert {f.value: f.count for f in result.facets[facet]} == _expected_facets(
                documents, query, facet
            )
    alone = [_answers(backend.search(query)) for query in queries]
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(lambda query: _answers(backend.search(query)), queries * 12))
    assert together == alone * 12
    engine.dispose()


def test_an_in_memory_index_counts_on_its_own_connection() -> None:
    """Each connection to ``sqlite://`` is a database of its own: a second one would find no index."""
    documents = _documents(60)
    totals = []
    engine = make_engine("sqlite://")
    backend = Fts5Backend(engine)
    backend.ensure_index()
    backend.upsert(documents)
    for query in map(prepare, QUERIES):
        result = backend.search(query)
        assert sum(f.count for f in result.facets["nature"]) == sum(
            _expected_facets(documents, query, "nature").values()
        )
        totals.append(result.total)
    assert totals[0] == 60
    engine.dispose()
