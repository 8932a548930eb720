"""``fairmarket demo``: builds a fresh sample city every time and serves health and the API docs."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from core.config import DEVELOPMENT_SECRET, get_settings
from core.db import get_engine
from core.security import create_access_token

REPO = Path(__file__).resolve().parents[2]


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_demo_builds_a_fresh_database_each_time(tmp_path: Path, runner: CliRunner) -> None:
    arguments = ["demo", "--no-serve", "--days", "30", "--complaints", "40", "--data-dir", str(tmp_path)]
    try:
        first = runner.invoke(app, arguments)
        assert first.exit_code == 0, first.output
        assert "fresh demo database" in first.output
        database = tmp_path / "fairmarket-demo.db"
        prices, complaints = _count(database, "price_observations"), _count(database, "complaints")
        assert complaints == 40 and prices > 30 * 300
        assert _count(database, "users") == 4 and "demo logins" in first.output
        get_engine.cache_clear()
        second = runner.invoke(app, arguments)
        assert second.exit_code == 0, second.output
        assert (_count(database, "price_observations"), _count(database, "complaints")) == (
            prices,
            complaints,
        )
    finally:
        get_engine.cache_clear()
        get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_demo_serves_health_docs_and_logins(tmp_path: Path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "cli.main", "demo", "--port", str(port), "--data-dir", str(tmp_path)]
    command += ["--days", "30", "--complaints", "40"]
    environment = {**os.environ, "FAIRMARKET_DATABASE_URL": "postgresql://must-not-be-used/"}
    server = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert health is not None, server.stdout.read().decode() if server.stdout else "no output"
        body = health.json()
        assert (body["status"], body["database"], body["search_backend"]) == ("ok", "sqlite", "sqlite-fts5")
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert server.stdout is not None
        printed = ""
        while "password:" not in printed:
            printed += server.stdout.readline().decode()
        password = re.search(r"password: (\S+)", printed)
        assert password is not None
        login = {"username": "chaoshi", "password": password.group(1)}
        token = httpx.post(f"http://127.0.0.1:{port}/api/auth/token", data=login, timeout=5)
        assert token.status_code == 200, token.text
        # Whoever read the source knows the development secret: a token forged with it is refused.
        forged = create_access_token(subject="1", secret=DEVELOPMENT_SECRET, minutes=5)
        users = httpx.get(
            f"http://127.0.0.1:{port}/api/users/me", headers={"Authorization": f"Bearer {forged}"}, timeout=5
        )
        assert users.status_code == 401
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)
