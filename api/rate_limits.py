"""Rate limits per verified principal or client address, shared by every worker process.

Who is counted: a request whose Bearer token verifies (signature and expiry) or whose ``X-API-Key`` is a
live key counts against its user, in the larger staff allowance; anything else - no credentials, a
bogus key, a forged token - counts against the client address, as the public. The address is the
peer's, or the one a proxy listed in ``FAIRMARKET_TRUSTED_PROXIES`` forwarded in ``X-Forwarded-For``.

Two layers: a token bucket per worker (smooth, no I/O) and one-minute windows counted where every
worker sees them - Redis when ``FAIRMARKET_REDIS_URL`` is set, else the ``rate_limit_windows`` table.
A worker takes the first tenth of a window's allowance without asking the store, then writes every
hit, so N workers let through at most ``limit * (1 + N / 10)`` a minute instead of ``limit * N``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from anyio import to_thread
from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response
from core.config import Settings
from core.models import ApiKey, RateLimitWindow, User
from core.security import api_key_matches, api_key_prefix, decode_access_token

log = logging.getLogger(__name__)

STAFF_RATE_FACTOR = 10
LOGIN_PATH = "/api/auth/token"
LOGIN_RATE_DIVISOR = 12
#: Public writes that make the platform send an e-mail to an address the caller names: a login's
#: allowance, so nobody turns the platform into a mail cannon.
MAIL_SENDING_PATHS = ("/api/price-follows",)
UNLIMITED_PATHS = ("/api/health",)
UNLIMITED_PREFIXES = ("/static/",)
MAX_TRACKED_CLIENTS = 50_000
LOCAL_SHARE = 0.1  # of a window's allowance a worker takes before it writes every hit
WINDOW_SECONDS = 60
KEY_CACHE_SECONDS = 60.0


@dataclass
class TokenBucket:
    tokens: float
    updated: float


class RateLimiter:
    """In-process token buckets, one per client and class (the per-worker layer)."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, str], TokenBucket] = {}

    def take(self, client: str, kind: str, capacity: int, now: float) -> float:
        """0 when a request may pass, else the seconds until the next token."""
        refill_per_second = capacity / 60
        bucket = self.buckets.get((client, kind))
        if bucket is None:
            if len(self.buckets) >= MAX_TRACKED_CLIENTS:
                self._forget_idle(now)
            bucket = self.buckets[(client, kind)] = TokenBucket(tokens=capacity, updated=now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * refill_per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / refill_per_second

    def _forget_idle(self, now: float) -> None:
        """Drop clients idle for a minute (their buckets are full again), keeping the limited ones."""
        idle = [key for key, bucket in self.buckets.items() if now - bucket.updated >= 60]
        for key in idle:
            del self.buckets[key]
        if len(self.buckets) >= MAX_TRACKED_CLIENTS:
            self.buckets.clear()


class WindowStore(Protocol):
    def add(self, bucket: str, window: int, hits: int) -> int:
        """Add ``hits`` to the bucket's window; returns the window's total across all workers."""
        ...


class DatabaseWindowStore:
    """Windows in the ``rate_limit_windows`` table (one UPSERT per write, SQLite and PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.swept_window = 0

    def add(self, bucket: str, window: int, hits: int) -> int:
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(RateLimitWindow)
            .values(bucket=bucket, window_start=window, hits=hits)
            .on_conflict_do_update(
                index_elements=["bucket", "window_start"], set_={"hits": RateLimitWindow.hits + hits}
            )
            .returning(RateLimitWindow.hits)
        )
        with self.engine.begin() as connection:
            total = int(connection.execute(statement).scalar_one())
            if window > self.swept_window:
                self.swept_window = window
                connection.execute(delete(RateLimitWindow).where(RateLimitWindow.window_start < window - 2))
        return total


class RedisWindowStore:
    """Windows as Redis counters that expire after two minutes."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def add(self, bucket: str, window: int, hits: int) -> int:
        key = f"fairmarket:rate:{bucket}:{window}"
        pipeline = self.client.pipeline()
        pipeline.incrby(key, hits)
        pipeline.expire(key, 2 * WINDOW_SECONDS)
        total, _ = pipeline.execute()
        return int(total)


@dataclass
class _Window:
    known_total: int = 0  # the store's total when this worker last wrote
    pending: int = 0  # hits taken here and not yet written


class SharedWindows:
    """Fixed one-minute windows per bucket, counted in a store every worker shares."""

    def __init__(self, store: WindowStore) -> None:
        self.store = store
        self.windows: dict[tuple[str, int], _Window] = {}
        self.current = 0
        self.lock = threading.Lock()

    def _window(self, bucket: str, window: int) -> _Window:
        if window != self.current:
            self.windows = {key: state for key, state in self.windows.items() if key[1] >= window}
            self.current = window
        return self.windows.setdefault((bucket, window), _Window())

    def take_locally(self, bucket: str, limit: int, now: float) -> bool | None:
        """True/False when this worker can decide alone; None when the store must be asked."""
        with self.lock:
            state = self._window(bucket, int(now // WINDOW_SECONDS))
            if state.known_total + state.pending >= limit:
                return False
            if state.pending + 1 <= math.floor(limit * LOCAL_SHARE) and state.known_total == 0:
                state.pending += 1
                return True
            return None

    def take_shared(self, bucket: str, limit: int, now: float) -> bool:
        """Write this hit and the pending ones; passes while the shared total stays within ``limit``."""
        window = int(now // WINDOW_SECONDS)
        with self.lock:
            state = self._window(bucket, window)
            hits, state.pending = state.pending + 1, 0
        try:
            total = self.store.add(bucket, window, hits)
        except Exception:  # a store that is down must not take the service down with it
            log.warning("rate limit store unavailable; this worker limits alone", exc_info=True)
            return True
        with self.lock:
            state.known_total = max(state.known_total, total)
        return total <= limit


def seconds_to_next_window(now: float) -> int:
    return max(1, math.ceil(WINDOW_SECONDS - now % WINDOW_SECONDS))


def _networks(entries: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return networks


def _within(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, trusted_proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The peer, or - when the peer is a trusted proxy - the last address in X-Forwarded-For that is not
    one of the trusted proxies (addresses further left were written by the client and prove nothing)."""
    peer = scope["client"][0] if scope.get("client") else "unknown"
    if not trusted_proxies or not _within(peer, trusted_proxies):
        return peer
    forwarded = b",".join(value for name, value in scope["headers"] if name == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted_proxies):
            return hop
    return peer


class Principals:
    """Verifies the credentials of a request just enough to know whose allowance it uses."""

    def __init__(self, settings: Settings, engine: Engine | None) -> None:
        self.secret = settings.secret_key
        self.engine = engine
        self.keys: dict[str, tuple[str | None, float]] = {}
        self.lock = threading.Lock()

    def from_token(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        claims = decode_access_token(token.strip(), self.secret)
        return f"user:{claims['sub']}" if claims else None

    def from_api_key(self, secret: str, now: float) -> str | None:
        """The key's user, looked up at most once a minute per key (unknown keys are cached too)."""
        digest = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
        with self.lock:
            cached = self.keys.get(digest)
            if cached is not None and now - cached[1] < KEY_CACHE_SECONDS:
                return cached[0]
        principal = self._lookup_api_key(secret)
        with self.lock:
            if len(self.keys) >= MAX_TRACKED_CLIENTS:
                self.keys.clear()
            self.keys[digest] = (principal, now)
        return principal

    def _lookup_api_key(self, secret: str) -> str | None:
        prefix = api_key_prefix(secret)
        if prefix is None or self.engine is None:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(
                select(ApiKey.key_hash, ApiKey.user_id)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None), User.disabled.is_(False))
            ).first()
        if row is None or not api_key_matches(secret, row.key_hash):
            return None
        return f"user:{row.user_id}"


class RateLimitMiddleware:
    """Limits requests: the public at ``per_minute`` per address, logins tighter, verified staff looser."""

    def __init__(self, app: ASGIApp, settings: Settings, engine: Engine | None = None) -> None:
        self.app = app
        self.per_minute = settings.rate_limit_per_minute
        self.trusted_proxies = _networks(settings.trusted_proxies)
        self.principals = Principals(settings, engine)
        self.limiter = RateLimiter()
        store: WindowStore | None = None
        if settings.redis_url:
            store = RedisWindowStore(settings.redis_url)
        elif engine is not None:
            store = DatabaseWindowStore(engine)
        self.shared = SharedWindows(store) if store is not None else None

    async def _principal(self, scope: Scope, now: float) -> str | None:
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if authorization:
            return self.principals.from_token(authorization)
        api_key = headers.get(b"x-api-key", b"").decode("latin-1")
        if api_key:
            return await to_thread.run_sync(self.principals.from_api_key, api_key, now)
        return None

    async def _class_of(self, scope: Scope, now: float) -> tuple[str, str, int]:
        """(whom to count, which class, allowance per minute)."""
        address = client_address(scope, self.trusted_proxies)
        if scope["path"] == LOGIN_PATH:
            return address, "login", max(1, self.per_minute // LOGIN_RATE_DIVISOR)
        if scope["method"] == "POST" and scope["path"] in MAIL_SENDING_PATHS:
            return address, "mail", max(1, self.per_minute // LOGIN_RATE_DIVISOR)
        principal = await self._principal(scope, now)
        if principal is not None:
            return principal, "staff", self.per_minute * STAFF_RATE_FACTOR
        return address, "public", self.per_minute

    async def _wait(self, scope: Scope) -> float:
        now = time.time()
        who, kind, capacity = await self._class_of(scope, now)
        wait = self.limiter.take(who, kind, capacity, time.monotonic())
        if wait or self.shared is None:
            return wait
        bucket = f"{kind}:{who}"
        allowed = self.shared.take_locally(bucket, capacity, now)
        if allowed is None:
            allowed = await to_thread.run_sync(self.shared.take_shared, bucket, capacity, now)
        return 0.0 if allowed else seconds_to_next_window(now)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.per_minute <= 0
            or scope["path"] in UNLIMITED_PATHS
            or scope["path"].startswith(UNLIMITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        wait = await self._wait(scope)
        if wait:
            response = error_response(429, "rate_limited", "请求过于频繁，请稍后再试 (too many requests)")
            response.headers["Retry-After"] = str(math.ceil(wait))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
