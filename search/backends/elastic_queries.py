"""Elasticsearch request bodies, built by pure functions: index layout, documents, searches, answers.

Nothing here talks to a cluster, so every body can be read and pinned by a golden test
(``tests/search/test_elastic_queries.py``); ``search.backends.elastic`` sends them. The terms are the
tokenizer's, stored space-joined under a whitespace analyzer: ES matches exactly what FTS5 matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from search.backends.base import from_millis, to_millis
from search.query import (
    FACET_FIELDS,
    MAX_FACET_VALUES,
    MAX_OFFSET,
    TOTAL_LIMIT,
    BackendHit,
    BackendResult,
    FacetCount,
    HistogramBucket,
    InvalidCursor,
    SearchDocument,
    SearchQuery,
    decode_cursor,
    encode_cursor,
)

HASHES_PAGE = 5000

INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "analysis": {"analyzer": {"terms": {"type": "custom", "tokenizer": "whitespace"}}},
}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "tracking_code": {"type": "keyword"},
        "title": {"type": "text", "index": False},
        "text": {"type": "text", "index": False},
        "tokens": {"type": "text", "analyzer": "terms"},
        "nature": {"type": "keyword"},
        "industry": {"type": "keyword"},
        "district": {"type": "keyword"},
        "merchant": {"type": "keyword"},
        "status": {"type": "keyword"},
        "created_at": {"type": "date", "format": "epoch_millis"},
        "amount_cents": {"type": "long"},
        "association_id": {"type": "long"},
        "source_hash": {"type": "keyword", "index": False},
    },
}


def bulk_load_settings() -> dict[str, Any]:
    """Settings of an index a rebuild fills: no refresh and no replicas until it is complete."""
    return {**INDEX_SETTINGS, "refresh_interval": "-1", "number_of_replicas": 0}


SERVING_SETTINGS: dict[str, Any] = {"index": {"refresh_interval": "1s"}}


def source(document: SearchDocument) -> dict[str, Any]:
    return {
        "id": document.id,
        "tracking_code": document.tracking_code,
        "title": document.title,
        "text": document.text,
        "tokens": document.tokens,
        "nature": document.nature,
        "industry": document.industry,
        "district": document.district,
        "merchant": document.merchant,
        "status": document.status,
        "created_at": to_millis(document.created_at),
        "amount_cents": document.amount_cents,
        "association_id": document.association_id,
        "source_hash": document.source_hash,
    }


def hit_document(hit_source: Mapping[str, Any]) -> SearchDocument:
    return SearchDocument(
        id=hit_source["id"],
        tracking_code=hit_source["tracking_code"],
        title=hit_source.get("title"),
        text=hit_source["text"],
        tokens="",
        nature=hit_source.get("nature"),
        industry=hit_source.get("industry"),
        district=hit_source.get("district"),
        merchant=hit_source.get("merchant"),
        status=hit_source["status"],
        created_at=from_millis(int(hit_source["created_at"])),
        amount_cents=hit_source.get("amount_cents"),
        association_id=hit_source.get("association_id"),
        source_hash=hit_source["source_hash"],
    )


def text_query(query: SearchQuery) -> dict[str, Any]:
    """Every term group must match; within a group any synonym does."""
    if not query.term_groups:
        return {"match_all": {}}
    return {
        "bool": {
            "must": [
                {
                    "bool": {
                        "should": [{"term": {"tokens": term}} for term in group],
                        "minimum_should_match": 1,
                    }
                }
                for group in query.term_groups
            ]
        }
    }


def base_filters(query: SearchQuery) -> list[dict[str, Any]]:
    """Filters that facets do not ignore: scope, exclusions, date and amount ranges."""
    filters: list[dict[str, Any]] = []
    if query.association_id is not None:
        filters.append({"term": {"association_id": query.association_id}})
    excluded = [
        {"terms": {facet: list(query.excluded(facet))}} for facet in FACET_FIELDS if query.excluded(facet)
    ]
    if excluded:
        filters.append({"bool": {"must_not": excluded}})
    created: dict[str, int] = {}
    if query.created_from is not None:
        created["gte"] = to_millis(query.created_from)
    if query.created_to is not None:
        created["lt"] = to_millis(query.created_to)
    if created:
        filters.append({"range": {"created_at": created}})
    amount: dict[str, int] = {}
    if query.amount_min_cents is not None:
        amount["gte"] = query.amount_min_cents
    if query.amount_max_cents is not None:
        amount["lte"] = query.amount_max_cents
    if amount:
        filters.append({"range": {"amount_cents": amount}})
    return filters


def facet_filters(query: SearchQuery, without: str | None = None) -> list[dict[str, Any]]:
    return [
        {"terms": {facet: list(query.values(facet))}}
        for facet in FACET_FIELDS
        if query.values(facet) and facet != without
    ]


def _all_of(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def search_body(query: SearchQuery) -> dict[str, Any]:
    """The request body: facet filters go in ``post_filter`` so each facet can leave out its own."""
    sort = query.effective_sort
    body: dict[str, Any] = {
        "query": {"bool": {"must": [text_query(query)], "filter": base_filters(query)}},
        "post_filter": _all_of(facet_filters(query)),
        "size": query.size,
        "track_total_hits": TOTAL_LIMIT,
        "sort": [{"_score": "desc"}, {"id": "desc"}]
        if sort == "relevance"
        else [{"created_at": "desc"}, {"id": "desc"}],
    }
    if sort == "relevance":
        body["from"] = relevance_offset(query)
        if body["from"] + query.size > MAX_OFFSET:
            raise InvalidCursor(f"按相关度排序最多翻到第 {MAX_OFFSET} 条，更多结果请按时间排序")
    elif query.cursor:
        body["search_after"] = decode_cursor(query.cursor, sort, (int, int))
    else:
        body["from"] = query.offset
    aggs: dict[str, Any] = {}
    if query.facets:
        for facet in FACET_FIELDS:
            aggs[f"facet_{facet}"] = {
                "filter": _all_of(facet_filters(query, without=facet)),
                "aggs": {
                    "values": {
                        "terms": {
                            "field": facet,
                            "size": MAX_FACET_VALUES,
                            "order": [{"_count": "desc"}, {"_key": "asc"}],
                        }
                    }
                },
            }
    if query.histogram:
        aggs["histogram"] = {
            "filter": _all_of(facet_filters(query)),
            "aggs": {
                "buckets": {
                    "date_histogram": {
                        "field": "created_at",
                        "calendar_interval": query.histogram,
                        "time_zone": "+08:00",
                        "min_doc_count": 1,
                        "format": "yyyy-MM-dd",
                    }
                }
            },
        }
    if aggs:
        body["aggs"] = aggs
    return body


def relevance_offset(query: SearchQuery) -> int:
    """Where a relevance page starts: its cursor holds an offset, not the last score.

    A score-based ``search_after`` needs the exact score back, and the JSON score is a rounded float:
    a server comparing it with its own value repeats or skips tied hits. Offsets cannot drift, at the
    price of Elasticsearch's result window (10,000 hits) for relevance; date order pages without limit.
    """
    if query.cursor:
        return int(decode_cursor(query.cursor, "relevance", (int,))[0])
    return query.offset


def parse_response(query: SearchQuery, response: Mapping[str, Any]) -> BackendResult:
    hits = response["hits"]["hits"]
    aggregations = response.get("aggregations", {})
    facets = {
        facet: [
            FacetCount(bucket["key"], bucket["doc_count"])
            for bucket in aggregations[f"facet_{facet}"]["values"]["buckets"]
        ]
        for facet in FACET_FIELDS
        if f"facet_{facet}" in aggregations
    }
    histogram = [
        HistogramBucket(dt.date.fromisoformat(bucket["key_as_string"][:10]), bucket["doc_count"])
        for bucket in aggregations.get("histogram", {}).get("buckets", {}).get("buckets", [])
        if bucket["doc_count"]
    ]
    sort = query.effective_sort
    next_cursor = None
    if query.size and len(hits) == query.size:
        if sort == "relevance":
            next_cursor = encode_cursor(sort, [relevance_offset(query) + len(hits)])
        else:
            next_cursor = encode_cursor(sort, list(hits[-1]["sort"]))
    return BackendResult(
        total=response["hits"]["total"]["value"],
        total_relation=response["hits"]["total"]["relation"],
        hits=[
            BackendHit(hit_document(hit["_source"]), hit["_score"] if sort == "relevance" else None)
            for hit in hits
        ],
        facets=facets,
        histogram=histogram,
        next_cursor=next_cursor,
    )


def index_action(index: str, document: SearchDocument) -> dict[str, Any]:
    """One bulk action writing ``document`` (by complaint id, so a write replaces the old entry)."""
    return {"_op_type": "index", "_index": index, "_id": str(document.id), "_source": source(document)}


def delete_action(index: str, complaint_id: int) -> dict[str, Any]:
    return {"_op_type": "delete", "_index": index, "_id": str(complaint_id)}


def hashes_page_body(after: list[Any] | None = None) -> dict[str, Any]:
    """One page of (id, source hash) in id order, after the sort values of the previous page's last hit."""
    body: dict[str, Any] = {
        "query": {"match_all": {}},
        "sort": [{"id": "asc"}],
        "size": HASHES_PAGE,
        "_source": ["id", "source_hash"],
    }
    if after is not None:
        body["search_after"] = after
    return body


def alias_swap_actions(alias: str, old: list[str], new: str) -> list[dict[str, Any]]:
    """One atomic alias update: ``alias`` leaves every old index and points at ``new``."""
    return [
        *({"remove": {"index": index, "alias": alias}} for index in old),
        {"add": {"index": new, "alias": alias}},
    ]
