"""Rate limits hold across the real ``fairmarket serve --workers 2`` on SQLite and PostgreSQL.

Each worker is its own process with its own token buckets; what they share is the one-minute windows in
the database (``rate_limit_windows``). A login flood spread over both workers, with a new bogus
``X-API-Key``, bearer token and ``X-Forwarded-For`` on every request, is still one public client
(127.0.0.1): together the workers let through at most ``limit * (1 + workers / 10)`` (each takes a
tenth of the allowance before it asks the database), not ``limit * workers``. Behind a trusted proxy the
forwarded clients are counted apart.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from api.rate_limits import LOCAL_SHARE, LOGIN_RATE_DIVISOR
from tests.utils.serve import Served, serve_process

WORKERS = 2
PER_MINUTE = 480
LOGIN_LIMIT = PER_MINUTE // LOGIN_RATE_DIVISOR  # 40 login attempts a minute per client
FLOOD = 3 * LOGIN_LIMIT
CONNECTIONS = 16
pytestmark = pytest.mark.slow


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _away_from_a_window_edge() -> None:
    """Shared windows are whole minutes: flood well inside one."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def _flood(served: Served, headers_for: list[dict[str, str]]) -> list[int]:
    """Login attempts over CONNECTIONS kept-alive connections at once (the kernel hands connections to
    both workers); returns the statuses."""
    clients = [httpx.Client(base_url=served.base, timeout=60) for _ in range(CONNECTIONS)]
    try:

        def attempt(number: int) -> int:
            client = clients[number % CONNECTIONS]
            data = {"username": "admin", "password": f"guess-{number}"}
            return client.post("/api/auth/token", data=data, headers=headers_for[number]).status_code

        with ThreadPoolExecutor(CONNECTIONS) as pool:
            return list(pool.map(attempt, range(len(headers_for))))
    finally:
        for client in clients:
            client.close()


def _spread_flood(served: Served, headers_for: list[dict[str, str]]) -> list[int]:
    """The flood, checked to have been served by every worker process (each spent CPU time on it)."""
    workers = served.worker_pids()
    assert len(workers) == WORKERS
    _away_from_a_window_edge()
    before = {pid: _cpu_ticks(pid) for pid in workers}
    statuses = _flood(served, headers_for)
    spent = {pid: _cpu_ticks(pid) - before[pid] for pid in workers}
    assert all(ticks > 0 for ticks in spent.values()), f"a worker served nothing: {spent}"
    return statuses


def _bogus_credentials(number: int) -> dict[str, str]:
    forged = {"X-Forwarded-For": f"198.51.100.{number % 250 + 1}"}
    if number % 2:
        return {**forged, "X-API-Key": f"fm_{secrets.token_hex(6)}_{secrets.token_urlsafe(8)}"}
    return {**forged, "Authorization": f"Bearer {secrets.token_urlsafe(24)}"}


def test_a_login_flood_over_two_workers_is_limited_once(db_url: str, tmp_path: Path) -> None:
    with serve_process(
        tmp_path,
        workers=WORKERS,
        database_url=db_url,
        RATE_LIMIT_PER_MINUTE=str(PER_MINUTE),
        TRUSTED_PROXIES="",
    ) as served:
        statuses = _spread_flood(served, [_bogus_credentials(n) for n in range(FLOOD)])

    assert set(statuses) <= {401, 429}, statuses
    passed = statuses.count(401)
    # At least the allowance, and at most what the shared windows let two workers through; per-worker
    # limits would pass 2 * LOGIN_LIMIT, staff-class credentials 10 times more.
    assert LOGIN_LIMIT <= passed <= LOGIN_LIMIT * (1 + WORKERS * LOCAL_SHARE), statuses


def test_forwarded_clients_behind_a_trusted_proxy_are_counted_apart(db_url: str, tmp_path: Path) -> None:
    with serve_process(
        tmp_path,
        workers=WORKERS,
        database_url=db_url,
        RATE_LIMIT_PER_MINUTE=str(PER_MINUTE),
        TRUSTED_PROXIES="127.0.0.1",
    ) as served:
        # Each forwarded client tries twice: all within their own allowance, and together more than one
        # client's (with the workers' local shares), so a shared count would refuse some. Every attempt
        # that passes costs a password hash, hence no more than that.
        attempts = 2 * LOGIN_LIMIT
        assert attempts > LOGIN_LIMIT * (1 + WORKERS * LOCAL_SHARE)
        spread = [{"X-Forwarded-For": f"203.0.113.{n // 2 + 1}"} for n in range(attempts)]
        statuses = _spread_flood(served, spread)

    assert statuses == [401] * attempts, statuses
