"""Rate limits as an attacker tries to slip past them: bogus credentials, forged X-Forwarded-For,
spreading requests over workers."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from core.config import Settings
from tests.alerts.receiver import free_port

TRACK = "/api/complaints/track/TS-NOPE"


def _client(settings: Settings, peer: str = "203.0.113.9", **changes: Any) -> TestClient:
    return TestClient(
        create_app(settings.model_copy(update=changes)), raise_server_exceptions=False, client=(peer, 40000)
    )


def _away_from_a_window_edge() -> None:
    """Shared windows are whole minutes: start a count well inside one."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


@pytest.mark.parametrize(
    "headers",
    [
        lambda: {"X-API-Key": f"fm_{secrets.token_hex(6)}_{secrets.token_urlsafe(8)}"},
        lambda: {"X-API-Key": secrets.token_hex(8)},
        lambda: {"Authorization": f"Bearer {secrets.token_urlsafe(20)}"},
        lambda: {"Authorization": "Basic Zm9vOmJhcg=="},
    ],
)
def test_bogus_credentials_count_as_the_public(settings: Settings, headers: Any) -> None:
    with _client(settings, rate_limit_per_minute=5) as client:
        answers = [client.get(TRACK, headers=headers()).status_code for _ in range(7)]
    assert answers.count(429) >= 2 and answers[:5] == [404] * 5


def test_forwarded_for_is_ignored_from_an_untrusted_peer(settings: Settings) -> None:
    with _client(settings, rate_limit_per_minute=5) as client:
        answers = [
            client.get(TRACK, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(7)
        ]
    assert answers[5:] == [429, 429]


def test_a_trusted_proxy_forwards_the_real_client(settings: Settings) -> None:
    """Behind the proxy every client has its own allowance; addresses the client wrote itself
    (left of the proxy's entry) do not create new ones."""
    with _client(
        settings, peer="10.0.0.2", rate_limit_per_minute=3, trusted_proxies=["10.0.0.0/8"]
    ) as client:
        first = [client.get(TRACK, headers={"X-Forwarded-For": "198.51.100.7"}).status_code for _ in range(4)]
        other = client.get(TRACK, headers={"X-Forwarded-For": "198.51.100.8"}).status_code
        spoofed = [
            client.get(TRACK, headers={"X-Forwarded-For": f"1.2.3.{n}, 198.51.100.7"}).status_code
            for n in range(3)
        ]
    assert first == [404, 404, 404, 429] and other == 404
    assert spoofed == [429, 429, 429]


def test_login_floods_with_changing_headers_are_limited(settings: Settings) -> None:
    with _client(settings, rate_limit_per_minute=24) as client:
        answers = [
            client.post(
                "/api/auth/token",
                data={"username": "admin", "password": f"guess{n}"},
                headers={"X-Forwarded-For": f"198.51.100.{n}", "X-API-Key": secrets.token_hex(8)},
            ).status_code
            for n in range(5)
        ]
    assert answers[:2] == [401, 401] and set(answers[2:]) == {429}


def test_public_follow_requests_get_a_logins_allowance(settings: Settings) -> None:
    """Each request mails an address the caller names: 24 a minute for reads, 2 for follow requests."""
    with _client(settings, rate_limit_per_minute=24) as client:
        follows = [
            client.post(
                "/api/price-follows", json={"email": f"reader{n}@example.cn", "product": "no-such-good"}
            ).status_code
            for n in range(4)
        ]
        reads = [client.get(TRACK).status_code for _ in range(3)]
    assert follows[:2] == [404, 404] and set(follows[2:]) == {429}
    assert reads == [404, 404, 404]


def _spread_over_workers(settings: Settings, per_minute: int, requests: int, **changes: Any) -> list[int]:
    """Two app instances (two workers) on one store, the client alternating between them."""
    _away_from_a_window_edge()
    with (
        _client(settings, rate_limit_per_minute=per_minute, **changes) as first,
        _client(settings, rate_limit_per_minute=per_minute, **changes) as second,
    ):
        return [(first, second)[n % 2].get(TRACK).status_code for n in range(requests)]


def test_limits_are_shared_by_workers_through_the_database(settings: Settings) -> None:
    answers = _spread_over_workers(settings, 20, 40)
    passed = answers.count(404)
    assert 20 <= passed <= 20 * (1 + 2 * 0.1), answers  # per-worker limits would pass 40


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        import redis

        client = redis.Redis(port=port)
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_limits_are_shared_by_workers_through_redis(settings: Settings, redis_url: str) -> None:
    answers = _spread_over_workers(settings, 20, 40, redis_url=redis_url)
    assert 20 <= answers.count(404) <= 24, answers
