"""Elasticsearch (and OpenSearch) backend through the official ``elasticsearch`` client.

Searches go to an alias (``settings.search_index``) pointing at one concrete index
``<alias>-<timestamp>``; a full rebuild fills a new index (refresh off, no replicas, streamed bulk in
chunks so memory stays bounded) and swaps the alias in one atomic call, so search stays up. The terms are
the tokenizer's, stored space-joined under a whitespace analyzer: ES matches exactly what FTS5 matches.
Request bodies are built by pure functions (``search_body`` …) so they can be read and tested apart from
the client calls.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from elastic_transport import HttpHeaders, TransportError, Urllib3HttpNode
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, helpers

from search.backends.base import Progress, from_millis, to_millis
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

log = logging.getLogger(__name__)
BULK_CHUNK = 500
BULK_MAX_BYTES = 10 * 1024 * 1024
TRANSIENT_STATUSES = (429, 502, 503, 504)

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


class PlainJsonNode(Urllib3HttpNode):
    """Sends plain ``application/json``: OpenSearch-API servers refuse the client's versioned media types."""

    def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: Any = None,
    ) -> Any:
        if headers is not None:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                if name in headers and "vnd.elasticsearch" in headers[name]:
                    ndjson = "x-ndjson" in headers[name]
                    headers[name] = "application/x-ndjson" if ndjson else "application/json"
        return super().perform_request(
            method, target, body=body, headers=headers, request_timeout=request_timeout
        )


def make_client(url: str) -> Elasticsearch:
    """A client retrying transient failures (timeouts, 429 and 5xx from an overloaded cluster)."""
    return Elasticsearch(
        url,
        node_class=PlainJsonNode,
        max_retries=5,
        retry_on_timeout=True,
        retry_on_status=TRANSIENT_STATUSES,
        request_timeout=60,
    )


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


def _document(hit_source: Mapping[str, Any]) -> SearchDocument:
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
            BackendHit(_document(hit["_source"]), hit["_score"] if sort == "relevance" else None)
            for hit in hits
        ],
        facets=facets,
        histogram=histogram,
        next_cursor=next_cursor,
    )


class ElasticBackend:
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, alias: str, *, refresh_on_write: bool = True) -> None:
        self.client = client
        self.alias = alias
        self.refresh_on_write = refresh_on_write

    def _new_bulk_load_index(self) -> str:
        """A timestamped index for a rebuild: no refresh and no replicas until it is filled."""
        name = f"{self.alias}-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}"
        settings = {**INDEX_SETTINGS, "refresh_interval": "-1", "number_of_replicas": 0}
        self.client.indices.create(index=name, settings=settings, mappings=MAPPINGS)
        return name

    def _aliased_indices(self) -> list[str]:
        try:
            return list(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def ensure_index(self) -> None:
        """Create the first index under the alias unless there is one.

        Several API workers start at once: each may find no alias, so the first index has a fixed name —
        one worker creates it, the others find it made, and every one points the alias at that same
        index (pointing it at several would leave no index to write to). Rebuilds swap in timestamped
        indices later.
        """
        if self._aliased_indices():
            return
        name = f"{self.alias}-initial"
        try:
            self.client.indices.create(index=name, settings=INDEX_SETTINGS, mappings=MAPPINGS)
        except BadRequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
        if not self._aliased_indices():
            self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias}}])

    def _bulk(self, actions: Iterable[dict[str, Any]], progress: Progress | None = None) -> int:
        written = 0
        for ok, item in helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=BULK_CHUNK,
            max_chunk_bytes=BULK_MAX_BYTES,
            max_retries=5,
            initial_backoff=1,
            raise_on_error=False,
        ):
            operation, result = next(iter(item.items()))
            if not ok and not (operation == "delete" and result.get("status") == 404):
                raise RuntimeError(f"Elasticsearch refused a document: {result}")
            written += 1
            if progress is not None and written % BULK_CHUNK == 0:
                progress(written)
        return written

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        written = self._bulk(
            {"_op_type": "index", "_index": self.alias, "_id": str(d.id), "_source": source(d)}
            for d in documents
        )
        if written and self.refresh_on_write:
            self.client.indices.refresh(index=self.alias)
        return written

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Bulk requests without a refresh each; one refresh at the end makes them all searchable.

        A refresh per batch costs more than the batch's writes; the index is refreshed even when the
        block fails, so whatever was written is found.
        """
        refresh, self.refresh_on_write = self.refresh_on_write, False
        try:
            yield
        finally:
            self.refresh_on_write = refresh
            try:
                self.client.indices.refresh(index=self.alias)
            except (ApiError, TransportError):  # unreachable: the writes before said so already
                log.warning("refresh of %s failed after bulk writes", self.alias, exc_info=True)

    def delete(self, ids: Iterable[int]) -> None:
        deleted = self._bulk({"_op_type": "delete", "_index": self.alias, "_id": str(i)} for i in ids)
        if deleted and self.refresh_on_write:
            self.client.indices.refresh(index=self.alias)

    def search(self, query: SearchQuery) -> BackendResult:
        response = self.client.search(index=self.alias, body=search_body(query))
        return parse_response(query, response.body)

    def indexed_hashes(self) -> Iterator[tuple[int, str]]:
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "query": {"match_all": {}},
                "sort": [{"id": "asc"}],
                "size": 5000,
                "_source": ["id", "source_hash"],
            }
            if after is not None:
                body["search_after"] = after
            hits = self.client.search(index=self.alias, body=body)["hits"]["hits"]
            if not hits:
                return
            yield from ((hit["_source"]["id"], hit["_source"]["source_hash"]) for hit in hits)
            after = hits[-1]["sort"]

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        name = self._new_bulk_load_index()
        try:
            written = self._bulk(
                (
                    {"_op_type": "index", "_index": name, "_id": str(d.id), "_source": source(d)}
                    for d in documents
                ),
                progress,
            )
            self.client.indices.put_settings(index=name, settings={"index": {"refresh_interval": "1s"}})
            self.client.indices.refresh(index=name)
        except BaseException:
            self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        old = self._aliased_indices()
        self.client.indices.update_aliases(
            actions=[
                *({"remove": {"index": index, "alias": self.alias}} for index in old),
                {"add": {"index": name, "alias": self.alias}},
            ]
        )
        for index in old:
            self.client.indices.delete(index=index, ignore_unavailable=True)
        if progress is not None:
            progress(written)
        return written

    def close(self) -> None:
        self.client.close()
