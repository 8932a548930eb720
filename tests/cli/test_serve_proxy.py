"""``fairmarket serve`` (real uvicorn process): ``X-Forwarded-For`` is believed from trusted proxies only.

Uvicorn trusts proxy headers from 127.0.0.1 by default; ``serve`` turns that off and the rate limiter
reads the header only when ``FAIRMARKET_TRUSTED_PROXIES`` names the peer. Observed through the public
rate limit, which is counted per client address.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT_PER_MINUTE = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(tmp_path: Path, trusted_proxies: str) -> Iterator[str]:
    port = _free_port()
    environment = {
        **os.environ,
        "FAIRMARKET_DATA_DIR": str(tmp_path),
        "FAIRMARKET_DATABASE_URL": f"sqlite:///{tmp_path / 'fairmarket.db'}",
        "FAIRMARKET_SEARCH_URL": "",
        "FAIRMARKET_RATE_LIMIT_PER_MINUTE": str(LIMIT_PER_MINUTE),
        "FAIRMARKET_TRUSTED_PROXIES": trusted_proxies,
    }
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"{base}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail(server.stdout.read().decode() if server.stdout else "serve did not start")
        yield base
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def _statuses(base: str, forwarded_for: list[str]) -> list[int]:
    return [
        httpx.get(f"{base}/api/alerts", headers={"X-Forwarded-For": address}, timeout=10).status_code
        for address in forwarded_for
    ]


@pytest.mark.slow
def test_serve_ignores_forwarded_for_from_an_untrusted_peer(tmp_path: Path) -> None:
    with _serve(tmp_path, "") as base:
        # A flood that changes X-Forwarded-For on every request is still one client: 127.0.0.1.
        statuses = _statuses(base, [f"203.0.113.{n}" for n in range(1, 3 * LIMIT_PER_MINUTE)])
        assert 429 in statuses, statuses


@pytest.mark.slow
def test_serve_believes_forwarded_for_from_a_trusted_proxy(tmp_path: Path) -> None:
    with _serve(tmp_path, "127.0.0.1") as base:
        # Behind a trusted proxy each forwarded client has its own allowance...
        spread = _statuses(base, [f"203.0.113.{n}" for n in range(1, 3 * LIMIT_PER_MINUTE)])
        assert 429 not in spread, spread
        # ...and one forwarded client is still limited.
        repeated = _statuses(base, ["198.51.100.7"] * (3 * LIMIT_PER_MINUTE))
        assert 429 in repeated, repeated
