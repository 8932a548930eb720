"""Signing a user out through one server process reaches another process serving the same database.

A worker keeps what bearer tokens need of their users for a moment instead of reading the user on every
request (``web.deps.TokenAccounts``). Two ``fairmarket serve`` processes on one SQLite file stand in for
two workers: disabling a user through the API of one must turn the other's answer to the user's token
into 401 promptly, although nothing in that other process committed.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from core.db import make_engine, session_factory
from tests.utils.auth import make_user
from tests.utils.serve import serve

PASSWORD = "correct horse battery"


def _bearer(base: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/auth/token", data={"username": username, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.slow
def test_a_user_disabled_through_one_process_is_refused_by_the_other(tmp_path: Path) -> None:
    with ExitStack() as servers:
        first = servers.enter_context(serve(tmp_path, RATE_LIMIT_PER_MINUTE="0"))  # migrates the database
        engine = make_engine(f"sqlite:///{tmp_path / 'fairmarket.db'}")
        with session_factory(engine)() as session:
            make_user(session, "root", "admin")
            clerk_id = make_user(session, "clerk", "consumer_staff").id
        engine.dispose()
        second = servers.enter_context(serve(tmp_path, RATE_LIMIT_PER_MINUTE="0"))
        clerk = _bearer(first, "clerk")
        # The second process has read the clerk's account and keeps it.
        for _ in range(3):
            assert httpx.get(f"{second}/api/users/me", headers=clerk, timeout=30).status_code == 200

        disabled = httpx.post(
            f"{first}/api/users/{clerk_id}/disable", headers=_bearer(first, "root"), timeout=30
        )
        assert disabled.status_code == 200, disabled.text

        # At once where it was done; in the other process within its refresh interval (half a second),
        # the loop only bounds the wait.
        assert httpx.get(f"{first}/api/users/me", headers=clerk, timeout=30).status_code == 401
        deadline = time.monotonic() + 30
        status = httpx.get(f"{second}/api/users/me", headers=clerk, timeout=30).status_code
        while status == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            status = httpx.get(f"{second}/api/users/me", headers=clerk, timeout=30).status_code
        assert status == 401
