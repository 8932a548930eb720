"""``fairmarket serve`` as a real process on a free port, for tests of what crosses process boundaries."""

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(data_dir: Path, **settings: str) -> Iterator[str]:
    """One ``fairmarket serve`` worker on the SQLite database in ``data_dir``; yields its base URL.

    ``settings`` are ``FAIRMARKET_*`` variables without the prefix (``RATE_LIMIT_PER_MINUTE="0"``).
    """
    port = free_port()
    environment = {
        **os.environ,
        "FAIRMARKET_DATA_DIR": str(data_dir),
        "FAIRMARKET_DATABASE_URL": f"sqlite:///{data_dir / 'fairmarket.db'}",
        "FAIRMARKET_SEARCH_URL": "",
        **{f"FAIRMARKET_{name}": value for name, value in settings.items()},
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
