"""``fairmarket serve`` (real uvicorn process): ``X-Forwarded-For`` is believed from trusted proxies only.

Uvicorn trusts proxy headers from 127.0.0.1 by default; ``serve`` turns that off and the rate limiter
reads the header only when ``FAIRMARKET_TRUSTED_PROXIES`` names the peer. Observed through the public
rate limit, which is counted per client address.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.utils.serve import serve

LIMIT_PER_MINUTE = 3


def _statuses(base: str, forwarded_for: list[str]) -> list[int]:
    return [
        httpx.get(f"{base}/api/alerts", headers={"X-Forwarded-For": address}, timeout=10).status_code
        for address in forwarded_for
    ]


@pytest.mark.slow
def test_serve_ignores_forwarded_for_from_an_untrusted_peer(tmp_path: Path) -> None:
    with serve(tmp_path, RATE_LIMIT_PER_MINUTE=str(LIMIT_PER_MINUTE), TRUSTED_PROXIES="") as base:
        # A flood that changes X-Forwarded-For on every request is still one client: 127.0.0.1.
        statuses = _statuses(base, [f"203.0.113.{n}" for n in range(1, 3 * LIMIT_PER_MINUTE)])
        assert 429 in statuses, statuses


@pytest.mark.slow
def test_serve_believes_forwarded_for_from_a_trusted_proxy(tmp_path: Path) -> None:
    with serve(tmp_path, RATE_LIMIT_PER_MINUTE=str(LIMIT_PER_MINUTE), TRUSTED_PROXIES="127.0.0.1") as base:
        # Behind a trusted proxy each forwarded client has its own allowance...
        spread = _statuses(base, [f"203.0.113.{n}" for n in range(1, 3 * LIMIT_PER_MINUTE)])
        assert 429 not in spread, spread
        # ...and one forwarded client is still limited.
        repeated = _statuses(base, ["198.51.100.7"] * (3 * LIMIT_PER_MINUTE))
        assert 429 in repeated, repeated
