"""Public price reads answered from a cache keyed on the data version, with HTTP validators.

A city opens the same few price charts when prices jump. Each answer is computed once per data version
(see :func:`core.price_reads.price_data_version`) and kept as the bytes and headers it is sent with.
Answers carry an ``ETag`` (a hash of the body, the same in every worker), ``Last-Modified`` (when this
worker first computed them; a newer version is always first computed later, so a client's date never
vouches for an older answer) and ``Cache-Control: public``, so a reverse proxy or CDN may serve them and
a client holding the current answer gets ``304 Not Modified``.

A repeated request costs almost nothing: :class:`PublicReadsFastPath` answers it from the raw path and
query before routing, parameter validation and dependencies, and the data version is asked at most
every :data:`VERSION_REFRESH_SECONDS` (at once after any commit of a session in this process; other
processes' writes show within that time, far inside the five minutes proxies may keep an answer).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from typing import Annotated

import anyio
from anyio import to_thread
from cachetools import LRUCache
from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from core.db import session_commits
from core.price_reads import price_data_version

#: Prices arrive a few times a day: browsers and proxies may reuse an answer for five minutes.
CACHE_CONTROL = "public, max-age=300"
ANSWERS_KEPT = 512
JSON = "application/json"
#: Longest a worker goes on trusting the data version it last asked, when no session of its own committed.
VERSION_REFRESH_SECONDS = 0.5
#: The routes whose answers :class:`PublicReadsFastPath` repeats (they depend on path and query only).
FAST_PATHS = frozenset(
    {"/api/prices/series", "/api/prices/index", "/api/products", "/api/products/categories"}
)

RawHeaders = list[tuple[bytes, bytes]]
#: Something besides the database an answer depends on (the index's basket file): how to read its
#: stamp now, and the stamp the answer was computed under.
Guard = tuple[Callable[[], Hashable], Hashable]


class DataVersion:
    """:func:`price_data_version`, asked at most every ``refresh_seconds`` and again after any session
    of this process committed; requests arriving while it is asked share the answer."""

    def __init__(self, engine: Engine, refresh_seconds: float = VERSION_REFRESH_SECONDS) -> None:
        self._engine = engine
        self._refresh_seconds = refresh_seconds
        self._known: tuple[int, ...] | None = None
        self._asked_at = float("-inf")
        self._commits_seen = -1
        self._lock = anyio.Lock()

    def known(self) -> tuple[int, ...] | None:
        """The version, when it was asked recently enough and nothing committed here since."""
        stale = time.monotonic() - self._asked_at >= self._refresh_seconds
        if stale or session_commits() != self._commits_seen:
            return None
        return self._known

    def ask(self) -> tuple[int, ...]:
        """Query it now (blocking: call from a worker thread)."""
        commits, asked_at = session_commits(), time.monotonic()  # before: a commit meanwhile asks again
        with self._engine.connect() as connection:
            version = price_data_version(connection)
        self._known, self._asked_at, self._commits_seen = version, asked_at, commits
        return version

    async def current(self) -> tuple[int, ...]:
        known = self.known()
        if known is not None:
            return known
        async with self._lock:
            known = self.known()
            return known if known is not None else await to_thread.run_sync(self.ask)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


@dataclass(frozen=True)
class CachedAnswer:
    """A serialized answer with the header lists of its ``200`` and ``304``, made once."""

    body: bytes
    etag: str
    modified: float
    ok_headers: RawHeaders = field(repr=False)
    not_modified_headers: RawHeaders = field(repr=False)

    @classmethod
    def of(cls, model: BaseModel) -> CachedAnswer:
        body = model.model_dump_json().encode()
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        etag, modified = f'"{digest}"', time.time()
        headers = cls.headers_of(etag, modified)
        return cls(
            body=body,
            etag=etag,
            modified=modified,
            ok_headers=Response(body, media_type=JSON, headers=headers).raw_headers,
            not_modified_headers=Response(status_code=304, headers=headers).raw_headers,
        )

    @staticmethod
    def headers_of(etag: str, modified: float) -> dict[str, str]:
        return {
            "ETag": etag,
            "Last-Modified": formatdate(modified, usegmt=True),
            "Cache-Control": CACHE_CONTROL,
        }

    @property
    def headers(self) -> dict[str, str]:
        return self.headers_of(self.etag, self.modified)

    def is_fresh_for(self, if_none_match: str | None, if_modified_since: str | None) -> bool:
        """Whether the client's copy is this answer: by ``If-None-Match``, else ``If-Modified-Since``."""
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag in tags
        if if_modified_since is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(self.modified) <= since

    def response(self, request: Request) -> Response:
        if self.is_fresh_for(request.headers.get("if-none-match"), request.headers.get("if-modified-since")):
            return Response(status_code=304, headers=self.headers)
        return Response(self.body, media_type=JSON, headers=self.headers)

    async def send(self, scope: Scope, send: Send) -> None:
        """Answer straight over ASGI with the prepared headers (a copy: later middleware may append)."""
        fresh = self.is_fresh_for(_header(scope, b"if-none-match"), _header(scope, b"if-modified-since"))
        headers = self.not_modified_headers if fresh else self.ok_headers
        await send({"type": "http.response.start", "status": 304 if fresh else 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"" if fresh else self.body})


@dataclass(frozen=True)
class Repeat:
    """What one exact request (path and raw query) was answered, and under which data version."""

    version: tuple[int, ...]
    answer: CachedAnswer
    guard: Guard | None

    def holds(self, version: tuple[int, ...]) -> bool:
        return version == self.version and (self.guard is None or self.guard[0]() == self.guard[1])


class PublicReads:
    """Serialized public answers by request and data version; one per app, so one per database."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session], size: int = ANSWERS_KEPT) -> None:
        self.versions = DataVersion(engine)
        self._sessions = sessions
        self._answers: LRUCache[Hashable, CachedAnswer] = LRUCache(maxsize=size)
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        # Touched on the event loop only (the fast path and respond), so without a lock.
        self._repeats: LRUCache[tuple[str, bytes], Repeat] = LRUCache(maxsize=size)

    def _cached(self, versioned: Hashable) -> CachedAnswer | None:
        with self._lock:
            return self._answers.get(versioned)

    def _answer(self, versioned: Hashable, compute: Callable[[Session], BaseModel]) -> CachedAnswer:
        """The cached answer, else computed once: requests arriving meanwhile wait for it (new prices
        send a crowd after the same few charts at once)."""
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
        self,
        request: Request,
        key: Hashable,
        compute: Callable[[Session], BaseModel],
        guard: Guard | None = None,
    ) -> Response:
        """The answer for ``key`` at the current data version, computed by ``compute`` when new; the
        fast path repeats it for the same path and query while the version (and ``guard``) holds."""
        version = await self.versions.current()
        versioned = (key, version)
        cached = self._cached(versioned)
        if cached is None:
            cached = await to_thread.run_sync(self._answer, versioned, compute)
        scope = request.scope
        if scope["path"] in FAST_PATHS:
            self._repeats[(scope["path"], scope["query_string"])] = Repeat(version, cached, guard)
        return cached.response(request)

    async def repeat(self, scope: Scope, send: Send) -> bool:
        """Answer a request seen before from its path and raw query, when its answer still holds."""
        repeat = self._repeats.get((scope["path"], scope["query_string"]))
        if repeat is None or not repeat.holds(await self.versions.current()):
            return False
        await repeat.answer.send(scope, send)
        return True


class PublicReadsFastPath:
    """Answers a repeated public read before routing: no parameter validation, no dependencies, no
    response model — the same bytes and headers the route sent for this exact path and query.

    Innermost of the middlewares, so rate limits, security headers and CORS apply as to any request.
    """

    def __init__(self, app: ASGIApp, reads: PublicReads) -> None:
        self.app = app
        self.reads = reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] in FAST_PATHS
            and scope["method"] == "GET"
            and await self.reads.repeat(scope, send)
        ):
            return
        await self.app(scope, receive, send)


async def public_reads(request: Request) -> PublicReads:
    """This app's cache (made with the app: the fast path in front of the routes shares it)."""
    reads: PublicReads = request.app.state.public_reads
    return reads


PublicReadsDep = Annotated[PublicReads, Depends(public_reads)]
