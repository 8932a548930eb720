"""One contract, two backends: FTS5 and Elasticsearch (osmem-server) answer every query alike.

Expected answers come from a plain-Python reading of the same corpus: the matching rule (every query
term, or one of its synonyms, among the document's terms), the filters, the orders, facet counts that
ignore their own filter, and China-time histogram buckets.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from core.clock import china_day_start
from core.models import Complaint
from search.backends.base import SearchBackend
from search.documents import document_for
from search.query import FACET_FIELDS, SearchQuery
from search.service import display_hits, prepare

QUERIES: dict[str, dict[str, Any]] = {
    "everything": {},
    "one term": {"q": "猪肉"},
    "synonym 番茄 finds 西红柿": {"q": "番茄"},
    "two terms": {"q": "口罩 哄抬"},
    "english and digits": {"q": "N95"},
    "operators are words": {"q": '"OR" AND NEAR(x)'},
    "noise only": {"q": "😡😡 ！！ ((( ***"},
    "no match": {"q": "火星探测器"},
    "filter": {"q": "口罩", "nature": ("价格", "质量")},
    "exclusion": {"not_district": ("道里区",), "not_status": ("closed",)},
    "filter and exclusion on one field": {"merchant": ("家乐福", "大润发"), "not_merchant": ("大润发",)},
    "date range": {
        "created_from": china_day_start(dt.date(2026, 3, 5)),
        "created_to": china_day_start(dt.date(2026, 3, 12)),
    },
    "amount range": {"amount_min": Decimal("50"), "amount_max": Decimal("400.25")},
    "association scope": {"q": "价格", "association_id": "first"},
    "many filters": {
        "industry": ("supermarket", "pharmacy"),
        "status": ("received", "mediating"),
        "q": "超市",
    },
}


def _terms(complaint: Complaint) -> set[str]:
    return set(document_for(complaint).tokens.split())


def _matches(complaint: Complaint, query: SearchQuery, *, without: str | None = None) -> bool:
    terms = _terms(complaint)
    if not all(terms.intersection(group) for group in query.term_groups):
        return False
    if query.association_id is not None and complaint.association_id != query.association_id:
        return False
    fields = {
        "nature": complaint.nature,
        "industry": complaint.industry,
        "district": complaint.district,
        "merchant": complaint.merchant_name,
        "status": complaint.status,
    }
    for facet, value in fields.items():
        if query.values(facet) and facet != without and value not in query.values(facet):
            return False
        if value is not None and value in query.excluded(facet):
            return False
    created = document_for(complaint).created_at
    if query.created_from and created < query.created_from:
        return False
    if query.created_to and created >= query.created_to:
        return False
    if query.amount_min is not None and (complaint.amount is None or complaint.amount < query.amount_min):
        return False
    return query.amount_max is None or (complaint.amount is not None and complaint.amount <= query.amount_max)


def _query(corpus: list[Complaint], **fields: Any) -> SearchQuery:
    if fields.get("association_id") == "first":
        fields["association_id"] = corpus[0].association_id
    return prepare(SearchQuery(**{"size": 1000, **fields}))


def _newest_first(complaints: list[Complaint]) -> list[int]:
    return [c.id for c in sorted(complaints, key=lambda c: (document_for(c).created_at, c.id), reverse=True)]


def _facet_counts(corpus: list[Complaint], query: SearchQuery, facet: str) -> list[tuple[str, int]]:
    attribute = "merchant_name" if facet == "merchant" else facet
    counts = Counter(
        getattr(c, attribute)
        for c in corpus
        if _matches(c, query, without=facet) and getattr(c, attribute) is not None
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def test_date_sort_same_ids_in_same_order(backend: SearchBackend, corpus: list[Complaint]) -> None:
    for name, fields in QUERIES.items():
        query = _query(corpus, sort="date", **fields)
        result = backend.search(query)
        expected = _newest_first([c for c in corpus if _matches(c, query)])
        assert [hit.document.id for hit in result.hits] == expected, name
        assert result.total == len(expected), name


def test_relevance_same_hit_set_best_first(backend: SearchBackend, corpus: list[Complaint]) -> None:
    for name, fields in QUERIES.items():
        query = _query(corpus, sort="relevance", **fields)
        result = backend.search(query)
        expected = {c.id for c in corpus if _matches(c, query)}
        assert {hit.document.id for hit in result.hits} == expected, name
        assert result.total == len(expected), name
        scores = [hit.score for hit in result.hits]
        if query.term_groups and scores:
            assert all(s is not None for s in scores), name
            assert scores == sorted(scores, reverse=True), name  # type: ignore[type-var]


def test_facets_each_ignore_their_own_filter(backend: SearchBackend, corpus: list[Complaint]) -> None:
    for name, fields in QUERIES.items():
        query = _query(corpus, size=0, **fields)
        result = backend.search(query)
        for facet in FACET_FIELDS:
            got = [(f.value, f.count) for f in result.facets[facet]]
            assert got == _facet_counts(corpus, query, facet), (name, facet)


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_histogram_buckets_in_china_time(
    backend: SearchBackend, corpus: list[Complaint], interval: str
) -> None:
    query = _query(corpus, size=0, q="口罩", histogram=interval, not_status=("closed",))
    result = backend.search(query)

    def bucket(complaint: Complaint) -> dt.date:
        day = (document_for(complaint).created_at + dt.timedelta(hours=8)).date()
        if interval == "week":
            return day - dt.timedelta(days=day.weekday())
        return day.replace(day=1) if interval == "month" else day

    expected = sorted(Counter(bucket(c) for c in corpus if _matches(c, query)).items())
    assert [(b.start, b.count) for b in result.histogram] == expected
    assert sum(b.count for b in result.histogram) == result.total


@pytest.mark.parametrize("sort", ["date", "relevance"])
def test_cursor_pages_through_everything_once(
    backend: SearchBackend, corpus: list[Complaint], sort: str
) -> None:
    query = _query(corpus, q="价格", sort=sort) if sort == "relevance" else _query(corpus, sort=sort)
    everything = [hit.document.id for hit in backend.search(query).hits]
    paged: list[int] = []
    page = query.model_copy(update={"size": 4, "facets": False})
    while True:
        result = backend.search(page)
        paged += [hit.document.id for hit in result.hits]
        if result.next_cursor is None:
            break
        page = page.model_copy(update={"cursor": result.next_cursor})
    assert paged == everything
    assert len(set(paged)) == len(paged) > 4


def test_page_and_size_slice_the_date_order(backend: SearchBackend, corpus: list[Complaint]) -> None:
    everything = [hit.document.id for hit in backend.search(_query(corpus, sort="date")).hits]
    third_page = backend.search(prepare(SearchQuery(sort="date", page=3, size=5)))
    assert [hit.document.id for hit in third_page.hits] == everything[10:15]


def test_highlights_mark_the_query_terms_in_the_original_text(
    backend: SearchBackend, corpus: list[Complaint], session: Session
) -> None:
    query = _query(corpus, q="口罩 电话")
    hits = display_hits(session, query, backend.search(query).hits, unmasked=True)
    assert hits
    for hit in hits:
        marked = {hit.text[h.start : h.end] for h in hit.highlights if h.field == "text"}
        assert marked <= {"口罩", "一次性口罩", "医用口罩", "N95口罩", "电话"}
        assert {"电话"} <= marked
    original = next(h for h in hits if "13912345678" in h.text)
    assert original.text == session.get(Complaint, original.document.id).text  # type: ignore[union-attr]
    masked = display_hits(session, query, backend.search(query).hits, unmasked=False)
    assert all("13912345678" not in hit.text for hit in masked)


def test_index_holds_no_personal_data(backend: SearchBackend, corpus: list[Complaint]) -> None:
    result = backend.search(_query(corpus, q="电话"))
    assert result.hits
    assert all("13912345678" not in hit.document.text for hit in result.hits)
    assert backend.search(_query(corpus, q="13912345678")).total == 0


NOISE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from(list("\"'()*:^-+~|&!{}[]\\/ ANDORNOTNEAR口罩猪肉😡\x00")),
    ),
    max_size=220,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=NOISE)
def test_any_string_is_a_valid_search_through_the_api(
    search_client: TestClient, staff_headers: dict[str, str], q: str
) -> None:
    for sort in ("relevance", "date"):
        response = search_client.get(
            "/api/complaints/search",
            params={"q": q, "sort": sort, "histogram": "week"},
            headers=staff_headers,
        )
        if "\x00" in q:  # the API's URL guard refuses NUL bytes before any route runs
            assert response.status_code == 400, response.text
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] >= len(body["hits"])


def test_bulk_writes_are_all_found_when_the_block_ends(
    backend: SearchBackend, corpus: list[Complaint]
) -> None:
    """An import's upserts (Elasticsearch: no refresh each) are all searchable right after the block."""
    backend.delete(c.id for c in corpus)
    with backend.bulk_writes():
        for complaint in corpus:
            backend.upsert([document_for(complaint)])
    result = backend.search(_query(corpus, sort="date"))
    assert [hit.document.id for hit in result.hits] == _newest_first(corpus)
