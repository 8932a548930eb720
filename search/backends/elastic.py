"""Elasticsearch (and OpenSearch) backend through the official ``elasticsearch`` client.

Searches go to an alias (``settings.search_index``) pointing at one concrete index
``<alias>-<timestamp>``; a full rebuild fills a new index (refresh off, no replicas, streamed bulk in
chunks so memory stays bounded) and swaps the alias in one atomic call, so search stays up. This module
only talks to the cluster: every request body comes from the pure builders in
``search.backends.elastic_queries``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from elastic_transport import HttpHeaders, TransportError, Urllib3HttpNode
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, helpers

from search.backends.base import Progress
from search.backends.elastic_queries import (
    INDEX_SETTINGS,
    MAPPINGS,
    SERVING_SETTINGS,
    alias_swap_actions,
    bulk_load_settings,
    delete_action,
    hashes_page_body,
    index_action,
    parse_response,
    search_body,
)
from search.query import BackendResult, SearchDocument, SearchQuery

log = logging.getLogger(__name__)
BULK_CHUNK = 2000  # smaller bulk requests cost an ES-API server markedly more CPU per document
BULK_MAX_BYTES = 10 * 1024 * 1024
TRANSIENT_STATUSES = (429, 502, 503, 504)


class PlainJsonNode(Urllib3HttpNode):
    """Sends plain ``application/json``: OpenSearch-API servers refuse the client's versioned media types."""

    def perform_request(
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


class ElasticBackend:
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, alias: str, *, refresh_on_write: bool = True) -> None:
        self.client = client
        self.alias = alias
        self.refresh_on_write = refresh_on_write

    def _new_bulk_load_index(self) -> str:
        """A timestamped index for a rebuild: no refresh and no replicas until it is filled."""
        name = f"{self.alias}-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}"
        self.client.indices.create(index=name, settings=bulk_load_settings(), mappings=MAPPINGS)
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
            self.client.indices.update_aliases(actions=alias_swap_actions(self.alias, [], name))

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
        written = self._bulk(index_action(self.alias, d) for d in documents)
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
        deleted = self._bulk(delete_action(self.alias, i) for i in ids)
        if deleted and self.refresh_on_write:
            self.client.indices.refresh(index=self.alias)

    def search(self, query: SearchQuery) -> BackendResult:
        response = self.client.search(index=self.alias, body=search_body(query))
        return parse_response(query, response.body)

    def indexed_hashes(self) -> Iterator[tuple[int, str]]:
        after: list[Any] | None = None
        while True:
            hits = self.client.search(index=self.alias, body=hashes_page_body(after))["hits"]["hits"]
            if not hits:
                return
            yield from ((hit["_source"]["id"], hit["_source"]["source_hash"]) for hit in hits)
            after = hits[-1]["sort"]

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        name = self._new_bulk_load_index()
        try:
            written = self._bulk((index_action(name, d) for d in documents), progress)
            self.client.indices.put_settings(index=name, settings=SERVING_SETTINGS)
            self.client.indices.refresh(index=name)
        except BaseException:
            self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        old = self._aliased_indices()
        self.client.indices.update_aliases(actions=alias_swap_actions(self.alias, old, name))
        for index in old:
            self.client.indices.delete(index=index, ignore_unavailable=True)
        if progress is not None:
            progress(written)
        return written

    def close(self) -> None:
        self.client.close()
