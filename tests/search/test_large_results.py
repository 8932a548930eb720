"""Searches matching more than the exact-total limit: both backends say the total is a lower bound,
and FTS5's shortcuts for broad terms (date-index walk, newest-matches sample) say what they did."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

import pytest

from search.backends import fts5
from search.backends.base import SearchBackend
from search.query import TOTAL_LIMIT, SearchDocument, SearchQuery
from search.service import prepare
from tests.utils.search import search_document


def _documents(count: int, *, shuffled_dates: bool = False) -> list[SearchDocument]:
    minutes = list(range(count))
    if shuffled_dates:  # ids no longer rise with filing time: the walk must still be exact
        random.Random(7).shuffle(minutes)
    return [
        search_document(
            number,
            "口罩 价格" if number % 3 else "口罩 质量",
            dt.datetime(2025, 1, 1) + dt.timedelta(minutes=minutes[number - 1]),
            nature="价格" if number % 3 else "质量",
            district="道里区" if number % 2 else "南岗区",
        )
        for number in range(1, count + 1)
    ]


def test_total_beyond_the_limit_is_a_lower_bound(backend: SearchBackend) -> None:
    backend.upsert(_documents(TOTAL_LIMIT + 50))
    broad = backend.search(prepare(SearchQuery(q="口罩", size=5, facets=False)))
    assert (broad.total, broad.total_relation) == (TOTAL_LIMIT, "gte")
    narrow = backend.search(prepare(SearchQuery(q="口罩", nature=("质量",), size=5, facets=False)))
    assert narrow.total_relation in {"eq", "gte"}
    exact = backend.search(prepare(SearchQuery(q="质量", size=5, sort="date", facets=False)))
    assert (exact.total, exact.total_relation) == ((TOTAL_LIMIT + 50) // 3, "eq")


@pytest.mark.parametrize(
    ("shuffled_dates", "page", "outsiders_max", "way"),
    [
        (False, 3, 1000, "sample"),
        (True, 3, 1000, "sample with complaints older by id merged in"),
        (True, 3, 10, "walk: too many complaints older by id"),
        (False, 5, 1000, "walk: the sample holds too few"),
        (True, 5, 1000, "walk: the sample holds too few"),
    ],
)
def test_fts5_broad_date_sort_is_exact_whichever_way_it_goes(
    backend_name: str,
    backend: SearchBackend,
    monkeypatch: pytest.MonkeyPatch,
    shuffled_dates: bool,
    page: int,
    outsiders_max: int,
    way: str,
) -> None:
    """A page by date for a broad term comes from the newest matches by id when they hold it (with
    complaints filed out of id order merged in), else from walking the date index; both exact."""
    if backend_name != "fts5":
        pytest.skip("FTS5 only")
    documents = _documents(600, shuffled_dates=shuffled_dates)
    backend.upsert(documents)
    query = prepare(SearchQuery(q="价格", district=("道里区",), sort="date", size=7, page=page, facets=False))
    expected = sorted(
        (d for d in documents if d.nature == "价格" and d.district == "道里区"),
        key=lambda d: (d.created_at, d.id),
        reverse=True,
    )[7 * (page - 1) : 7 * (page + 1)]
    walks: list[int] = []
    original_walk = fts5.Fts5Backend._newest_matching

    def counted_walk(*args: Any) -> Any:
        walks.append(1)
        return original_walk(*args)

    monkeypatch.setattr(fts5.Fts5Backend, "_newest_matching", counted_walk)
    exact = backend.search(query)
    assert not walks  # fewer matches than the sample: no shortcut needed
    monkeypatch.setattr(fts5, "SAMPLE_LIMIT", 50)  # 50 newest of ~400 matches, ~25 of them in 道里区
    monkeypatch.setattr(fts5, "OUTSIDERS_MAX", outsiders_max)
    broad = backend.search(query)
    assert bool(walks) == way.startswith("walk")
    assert [h.document.id for h in broad.hits] == [h.document.id for h in exact.hits]
    assert [h.document.id for h in broad.hits] == [d.id for d in expected[:7]]
    following = backend.search(query.model_copy(update={"cursor": broad.next_cursor}))
    assert [h.document.id for h in following.hits] == [d.id for d in expected[7:14]]


@pytest.fixture
def sampling_fts5(
    backend_name: str, backend: SearchBackend, monkeypatch: pytest.MonkeyPatch
) -> SearchBackend:
    """FTS5 holding 300 matches of 口罩 with a sample of the newest 100 (so a search for it is broad)."""
    if backend_name != "fts5":
        pytest.skip("FTS5 only")
    backend.upsert(_documents(300))
    monkeypatch.setattr(fts5, "SAMPLE_LIMIT", 100)
    return backend


def test_fts5_sampled_facets_and_relevance_are_declared(sampling_fts5: SearchBackend) -> None:
    backend = sampling_fts5
    result = backend.search(prepare(SearchQuery(q="口罩", size=10)))
    assert result.sampled_newest == 100
    assert sum(f.count for f in result.facets["nature"]) == 100
    assert all(h.document.id > 200 for h in result.hits)
    few = backend.search(prepare(SearchQuery(q="质量", size=10)))
    assert few.sampled_newest is None
    assert sum(f.count for f in few.facets["nature"]) == 100


def test_fts5_exhaustive_search_ranks_every_match(sampling_fts5: SearchBackend) -> None:
    backend = sampling_fts5
    result = backend.search(prepare(SearchQuery(q="口罩", size=300, facets=False, exhaustive=True)))
    assert result.sampled_newest is None
    assert sorted(h.document.id for h in result.hits) == list(range(1, 301))


def _in_associations(documents: list[SearchDocument]) -> list[SearchDocument]:
    """Alternate the complaints between associations 1 and 2."""
    return [dataclasses.replace(d, association_id=1 + d.id % 2) for d in documents]


def test_fts5_an_associations_broad_search_is_over_its_own_complaints(sampling_fts5: SearchBackend) -> None:
    """The association is part of the FTS5 match: its newest matches, ranking and total are its own,
    not what is left of everyone's newest matches after filtering (that would be ~50 of 150)."""
    backend = sampling_fts5
    documents = _in_associations(_documents(300))
    backend.upsert(documents)
    result = backend.search(prepare(SearchQuery(q="口罩", association_id=1, size=100)))
    own = sorted((d.id for d in documents if d.association_id == 1), reverse=True)
    assert (result.total, result.total_relation) == (150, "eq")
    assert result.sampled_newest == 100
    assert sum(f.count for f in result.facets["nature"]) == 100
    assert sorted((h.document.id for h in result.hits), reverse=True) == own[:100]
    dated = backend.search(prepare(SearchQuery(q="口罩", association_id=2, sort="date", size=5, page=30)))
    assert [h.document.id for h in dated.hits] == [i for i in range(300, 0, -1) if i % 2 == 1][145:150]
    filtered = backend.search(prepare(SearchQuery(q="口罩", association_id=1, nature=("质量",), size=5)))
    newest_own = {d.id: d for d in documents if d.id in own[:100]}
    assert (filtered.total, filtered.total_relation) == (
        sum(1 for d in newest_own.values() if d.nature == "质量"),
        "gte",
    )  # other filters still count within the newest matches
    assert {(h.document.association_id, h.document.nature) for h in filtered.hits} == {(1, "质量")}


def test_fts5_terms_never_match_the_association_scope(backend_name: str, backend: SearchBackend) -> None:
    if backend_name != "fts5":
        pytest.skip("FTS5 only")
    backend.upsert(_in_associations(_documents(10)))
    assert backend.search(prepare(SearchQuery(q="a1"))).total == 0
    assert backend.search(prepare(SearchQuery(q="a1 口罩", association_id=1))).total == 0
    assert backend.search(prepare(SearchQuery(q="口罩", association_id=1))).total == 5


def test_fts5_unworded_search_over_many_complaints_counts_facets_over_the_newest(
    sampling_fts5: SearchBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without terms every complaint matches: past the exact-total limit the facets count the newest
    complaints in the searcher's scope (a million took seconds), below it all of them."""
    backend = sampling_fts5
    documents = _in_associations(_documents(300))
    backend.upsert(documents)
    exact = backend.search(prepare(SearchQuery(size=5)))
    assert (exact.total, exact.sampled_newest) == (300, None)
    assert sum(f.count for f in exact.facets["nature"]) == 300
    monkeypatch.setattr(fts5, "TOTAL_LIMIT", 120)
    broad = backend.search(prepare(SearchQuery(size=5)))
    assert (broad.total, broad.total_relation, broad.sampled_newest) == (120, "gte", 100)
    newest = sorted(documents, key=lambda d: d.created_at, reverse=True)[:100]
    assert {f.value: f.count for f in broad.facets["district"]} == {
        district: sum(1 for d in newest if d.district == district) for district in ("道里区", "南岗区")
    }
    monkeypatch.setattr(fts5, "TOTAL_LIMIT", 60)
    scoped = backend.search(prepare(SearchQuery(association_id=2, nature=("价格",), size=5)))
    newest_own = [d for d in reversed(documents) if d.association_id == 2][:100]
    assert scoped.sampled_newest == 100
    assert {f.value: f.count for f in scoped.facets["nature"]} == {
        nature: sum(1 for d in newest_own if d.nature == nature) for nature in ("价格", "质量")
    }
    assert sum(f.count for f in scoped.facets["district"]) == sum(1 for d in newest_own if d.nature == "价格")
