"""Public price reads answered from a cache keyed on the data version, with HTTP validators.

A city opens the same few price charts when prices jump. Each answer is computed once per data version
(see :func:`core.price_reads.price_data_version`) and kept serialized; a request then costs one small
version query. Answers carry an ``ETag`` (a hash of the body, the same in every worker), ``Last-Modified``
(when this worker first computed them; a newer version is always first computed later, so a client's
date never vouches for an older answer) and ``Cache-Control: public``, so a reverse proxy or CDN may
serve them and a client holding the current answer gets ``304 Not Modified``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from typing import Annotated

from anyio import to_thread
from cachetools import LRUCache
from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.price_reads import price_data_version

#: Prices arrive a few times a day: browsers and proxies may reuse an answer for five minutes.
CACHE_CONTROL = "public, max-age=300"
ANSWERS_KEPT = 512
JSON = "application/json"


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    etag: str
    modified: float

    @classmethod
    def of(cls, model: BaseModel) -> CachedAnswer:
        body = model.model_dump_json().encode()
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        return cls(body=body, etag=f'"{digest}"', modified=time.time())

    @property
    def headers(self) -> dict[str, str]:
        return {
            "ETag": self.etag,
            "Last-Modified": formatdate(self.modified, usegmt=True),
            "Cache-Control": CACHE_CONTROL,
        }

    def is_fresh_for(self, request: Request) -> bool:
        """Whether the client's copy is this answer: by ``If-None-Match``, else ``If-Modified-Since``."""
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag in tags
        if_modified_since = request.headers.get("if-modified-since")
        if if_modified_since is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(self.modified) <= since


class PublicReads:
    """Serialized public answers by request and data version; one per app, so one per database."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session], size: int = ANSWERS_KEPT) -> None:
        self._engine = engine
        self._sessions = sessions
        self._answers: LRUCache[Hashable, CachedAnswer] = LRUCache(maxsize=size)
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def _cached(self, versioned: Hashable) -> CachedAnswer | None:
        with self._lock:
            return self._answers.get(versioned)

    def _answer(self, key: Hashable, compute: Callable[[Session], BaseModel]) -> CachedAnswer:
        """The cached answer, else computed once: requests arriving meanwhile wait for it (new prices
        send a crowd after the same few charts at once)."""
        with self._engine.connect() as connection:
            versioned = (key, price_data_version(connection))
        cached = self._cached(versioned)
        if cached is not None:
            return cached
        with self._lock:
            computing = self._computing.setdefault(versioned, threading.Lock())
        with computing:
            try:
                cached = self._cached(versioned)
                if cached is None:
                    with self._sessions() as session:
                        cached = CachedAnswer.of(compute(session))
                    with self._lock:
                        self._answers[versioned] = cached
            finally:
                with self._lock:
                    self._computing.pop(versioned, None)
        return cached

    async def respond(
        self, request: Request, key: Hashable, compute: Callable[[Session], BaseModel]
    ) -> Response:
        """The answer for ``key`` at the current data version, computed by ``compute`` when new."""
        cached = await to_thread.run_sync(self._answer, key, compute)
        if cached.is_fresh_for(request):
            return Response(status_code=304, headers=cached.headers)
        return Response(cached.body, media_type=JSON, headers=cached.headers)


async def public_reads(request: Request) -> PublicReads:
    """This app's cache (async: made on the event loop, so never twice)."""
    reads: PublicReads | None = getattr(request.app.state, "public_reads", None)
    if reads is None:
        state = request.app.state
        reads = state.public_reads = PublicReads(state.engine, state.sessions)
    return reads


PublicReadsDep = Annotated[PublicReads, Depends(public_reads)]
