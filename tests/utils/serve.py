"""``fairmarket serve`` as a real process on a free port, for tests of what crosses process boundaries."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """A running ``fairmarket serve``: its base URL and process (the master when it has workers)."""

    base: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        """The worker processes uvicorn spawned (none with one worker: the master serves)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [
            int(pid)
            for pid in children
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()  # not the resource tracker
        ]


@contextmanager
def serve_process(
    data_dir: Path, *, workers: int = 1, database_url: str | None = None, **settings: str
) -> Iterator[Served]:
    """``fairmarket serve --workers N`` on ``database_url`` (default: SQLite in ``data_dir``).

    ``settings`` are ``FAIRMARKET_*`` variables without the prefix (``RATE_LIMIT_PER_MINUTE="0"``).
    """
    port = free_port()
    environment = {
        **os.environ,
        "FAIRMARKET_DATA_DIR": str(data_dir),
        "FAIRMARKET_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'fairmarket.db'}",
        "FAIRMARKET_SEARCH_URL": "",
        **{f"FAIRMARKET_{name}": value for name, value in settings.items()},
    }
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    served = Served(f"http://127.0.0.1:{port}", server)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"{served.base}/api/health", timeout=1)
                if len(served.worker_pids()) >= (workers if workers > 1 else 0):
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            server.terminate()
            pytest.fail(server.stdout.read().decode() if server.stdout else "serve did not start")
        yield served
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


@contextmanager
def serve(data_dir: Path, **settings: str) -> Iterator[str]:
    """One ``fairmarket serve`` worker on the SQLite database in ``data_dir``; yields its base URL."""
    with serve_process(data_dir, workers=1, database_url=None, **settings) as served:
        yield served.base
