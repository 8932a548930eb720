"""Golden request bodies of the Elasticsearch backend, in the style of ccdb5-api's expected results.

Each representative search is prepared as the service prepares it (the text through the tokenizer) and
its body compared with ``golden/elastic/<case>.json``: a change in what goes to the cluster shows as a
diff of a readable file. After a deliberate change, rewrite the files with
``FAIRMARKET_UPDATE_GOLDEN=1 python -m pytest tests/search/test_elastic_queries.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from search.backends.elastic_queries import (
    alias_swap_actions,
    hashes_page_body,
    parse_response,
    search_body,
)
from search.query import FacetCount, HistogramBucket, InvalidCursor, SearchQuery, encode_cursor
from search.service import prepare

GOLDEN = Path(__file__).with_name("golden") / "elastic"
UPDATE = os.environ.get("FAIRMARKET_UPDATE_GOLDEN") == "1"

CASES: dict[str, dict[str, Any]] = {
    # One term with synonyms: any of them matches, ranked by score.
    "plain_query": {"q": "短斤缺两", "facets": False},
    # Quotes are not syntax: the phrase is cut into its words like any other text.
    "quoted_phrase": {"q": '"价格欺诈" 口罩', "facets": False},
    # Nor are OR, AND, NOT, - and *: they become terms or vanish, nothing reaches ES as query syntax.
    "operators": {"q": "口罩 OR 酒精 -退款 AND NOT 消毒液*", "facets": False},
    # No text: everything in the scope, newest first.
    "no_text": {"facets": False},
    "filters": {
        "q": "退款",
        "nature": ("价格",),
        "district": ("南岗区", "道里区"),
        "not_status": ("closed",),
        "not_merchant": ("某某超市",),
        "association_id": 3,
        "created_from": dt.datetime(2026, 5, 31, 16),
        "created_to": dt.datetime(2026, 6, 30, 16),
        "amount_min": Decimal("10.005"),
        "amount_max": Decimal("99.999"),
        "facets": False,
    },
    # Each facet counts under every facet filter but its own (the district filter stays off its facet).
    "facets": {"q": "口罩", "district": ("南岗区",), "industry": ("pharmacy",)},
    "date_histogram": {"q": "口罩", "histogram": "week", "facets": False, "size": 0},
    "page_three_by_relevance": {"q": "退款", "page": 3, "size": 10, "facets": False},
    "page_three_by_date": {"q": "退款", "sort": "date", "page": 3, "size": 10, "facets": False},
    "relevance_cursor": {"q": "退款", "cursor": encode_cursor("relevance", [40]), "facets": False},
    "date_cursor": {
        "q": "退款",
        "sort": "date",
        "cursor": encode_cursor("date", [1782777600000, 1234]),
        "facets": False,
    },
}


def _golden(name: str, body: Any) -> Any:
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_search_body_matches_its_golden_file(case: str) -> None:
    body = search_body(prepare(SearchQuery(**CASES[case])))
    assert json.loads(json.dumps(body)) == _golden(f"search_{case}", body)


def test_every_golden_file_has_its_case() -> None:
    """A renamed or dropped case leaves no stale file behind to mislead a reader."""
    expected = {f"search_{case}.json" for case in CASES} | {"hashes_page.json", "alias_swap.json"}
    assert {path.name for path in GOLDEN.glob("*.json")} == expected


def test_maintenance_bodies_match_their_golden_files() -> None:
    after = hashes_page_body([5000])
    assert after == _golden("hashes_page", after)
    swap = alias_swap_actions("complaints", ["complaints-1", "complaints-2"], "complaints-3")
    assert swap == _golden("alias_swap", swap)


def test_relevance_beyond_the_result_window_is_refused_before_any_request() -> None:
    with pytest.raises(InvalidCursor, match="10000"):
        search_body(prepare(SearchQuery(q="退款", page=501, size=20)))
    assert "from" in search_body(prepare(SearchQuery(q="退款", page=500, size=20)))


def test_a_cursor_of_the_other_sort_is_refused() -> None:
    with pytest.raises(InvalidCursor):
        search_body(prepare(SearchQuery(q="退款", sort="date", cursor=encode_cursor("relevance", [40]))))


def test_a_response_becomes_hits_facets_histogram_and_the_next_cursor() -> None:
    query = prepare(SearchQuery(q="口罩", size=1, histogram="day"))
    source = {
        "id": 7,
        "tracking_code": "TS20260601-0007",
        "title": "口罩涨价",
        "text": "口罩一盒涨到八十元",
        "nature": "价格",
        "industry": "pharmacy",
        "district": "南岗区",
        "merchant": "康宁大药房(南岗店)",
        "status": "submitted",
        "created_at": 1780272000000,
        "amount_cents": 8000,
        "association_id": 3,
        "source_hash": "abc",
    }
    buckets = {"buckets": [{"key": "南岗区", "doc_count": 4}]}
    response = {
        "hits": {
            "total": {"value": 4, "relation": "eq"},
            "hits": [{"_source": source, "_score": 2.5, "sort": [2.5, 7]}],
        },
        "aggregations": {
            "facet_district": {"values": buckets},
            "histogram": {
                "buckets": {
                    "buckets": [
                        {"key_as_string": "2026-06-01", "doc_count": 4},
                        {"key_as_string": "2026-06-02", "doc_count": 0},
                    ]
                }
            },
        },
    }
    result = parse_response(query, response)
    assert (result.total, result.total_relation) == (4, "eq")
    [hit] = result.hits
    assert (hit.document.id, hit.score, hit.document.created_at) == (7, 2.5, dt.datetime(2026, 6, 1))
    assert result.facets == {"district": [FacetCount("南岗区", 4)]}
    assert result.histogram == [HistogramBucket(dt.date(2026, 6, 1), 4)]
    assert result.next_cursor == encode_cursor("relevance", [1])
