"""After the masking rules change, upgrading brings the index to them without a manual step.

The index is planted as older rules left it: personal data in the documents' text, title and merchant,
documents hashed under other rules, and ``search_index_masking`` at an older version. Then the upgrade
paths run for real — ``fairmarket db upgrade``, an API worker's start and ``fairmarket scheduler``'s
start — on FTS5 and Elasticsearch,
SQLite and PostgreSQL; afterwards nothing a trade association or the public can reach in the index
holds the personal data, and the recorded version is the current one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.main import create_app
from cli.main import app as cli_app
from complaints.privacy import MASKING_VERSION
from core.clock import utcnow
from core.config import Settings, get_settings
from core.db import get_engine
from core.models import Association, Complaint, SearchIndexMasking
from core.tokenizer import get_tokenizer
from search.backends.base import SearchBackend
from search.documents import document_for, indexed_rows
from search.masking import recorded_masking_version
from search.query import SearchQuery
from search.service import get_search_backend, search_complaints
from tests.utils.auth import login_headers, make_association, make_user

PERSONAL = ("13912345678", "13900001111", "abc123@qq.com", "张伟")


def _plant_old_index(session: Session, backend: SearchBackend) -> Association:
    """Documents as older rules wrote them, and the older version recorded; returns the association
    the complaints went to."""
    supermarkets = make_association(session, "chaoshi", ["supermarket"])
    session.add_all(
        [
            Complaint(
                tracking_code="TS-OLDRULES1",
                text="我的邮箱是abc123@qq.com，电话13912345678，结账多收了钱。",
                merchant_name="沃尔玛(店长张伟13900001111)",
                industry="supermarket",
                status="received",
                created_at=dt.datetime(2026, 3, 1, 2, 0),
                association_id=supermarkets.id,
            ),
            Complaint(
                tracking_code="TS-OLDRULES2",
                title="联系人张伟13900001111",
                text="超市鸡蛋标价8元一斤，结账时收了12元，多收钱。",
                industry="supermarket",
                status="received",
                created_at=dt.datetime(2026, 3, 2, 2, 0),
                association_id=supermarkets.id,
            ),
        ]
    )
    session.commit()
    tokenizer = get_tokenizer()
    backend.upsert(
        dataclasses.replace(
            document_for(row),
            title=row.title,
            text=row.text,
            merchant=row.merchant_name,
            tokens=tokenizer.index_text(row.title, row.text, row.merchant_name),
            source_hash=f"masked-by-version-{MASKING_VERSION - 1}",
        )
        for row in indexed_rows(session)
    )
    session.merge(
        SearchIndexMasking(backend=backend.name, masking_version=MASKING_VERSION - 1, updated_at=utcnow())
    )
    session.commit()
    return supermarkets


def _leaks(session: Session, settings: Settings, engine: Engine) -> list[str]:
    """Personal data found in what the index gives a masked reader: every hit, and hits of a search for it."""
    backend = get_search_backend(settings, engine)
    try:
        shown = search_complaints(session, backend, SearchQuery(q="", size=1000), unmasked=False).hits
        found = [
            value
            for hit in shown
            for value in PERSONAL
            if value in f"{hit.title} {hit.text} {hit.document.merchant}"
        ]
        for value in PERSONAL:
            if search_complaints(session, backend, SearchQuery(q=value), unmasked=False).hits:
                found.append(f"search:{value}")
        return found
    finally:
        backend.close()


@pytest.fixture
def environment(search_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings as a deployment's environment, for the command line."""
    monkeypatch.setenv("FAIRMARKET_DATABASE_URL", search_settings.database_url)
    monkeypatch.setenv("FAIRMARKET_DATA_DIR", str(search_settings.data_dir))
    monkeypatch.setenv("FAIRMARKET_SEARCH_URL", search_settings.search_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_engine(search_settings.database_url).dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_db_upgrade_remasks_an_index_built_under_older_rules(
    session: Session, backend: SearchBackend, search_settings: Settings, engine: Engine, environment: None
) -> None:
    _plant_old_index(session, backend)
    assert _leaks(session, search_settings, engine)  # the planted index does leak

    result = CliRunner().invoke(cli_app, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert "re-masked" in result.output
    session.expire_all()
    assert _leaks(session, search_settings, engine) == []
    assert recorded_masking_version(session, backend.name) == MASKING_VERSION
    # Upgrading again finds the index current and says nothing of re-masking.
    again = CliRunner().invoke(cli_app, ["db", "upgrade"])
    assert again.exit_code == 0 and "re-masked" not in again.output


def test_a_worker_start_remasks_before_serving_searches(
    session: Session, backend: SearchBackend, search_settings: Settings, engine: Engine
) -> None:
    supermarkets = _plant_old_index(session, backend)
    make_user(session, "chaoshi", "association_staff", association=supermarkets)

    with TestClient(create_app(search_settings)) as client:
        headers = login_headers(client, "chaoshi")
        for value in PERSONAL:
            found = client.get("/api/complaints/search", params={"q": value}, headers=headers)
            assert found.status_code == 200 and found.json()["hits"] == [], (value, found.text)
        listed = client.get("/api/complaints/search", headers=headers).json()["hits"]
        assert len(listed) == 2
        assert not [value for hit in listed for value in PERSONAL if value in str(hit)]

    session.expire_all()
    assert _leaks(session, search_settings, engine) == []
    assert recorded_masking_version(session, backend.name) == MASKING_VERSION


@pytest.mark.slow
def test_the_scheduler_start_remasks(
    session: Session, backend: SearchBackend, search_settings: Settings, engine: Engine
) -> None:
    _plant_old_index(session, backend)
    environment = {
        **os.environ,
        "FAIRMARKET_DATABASE_URL": search_settings.database_url,
        "FAIRMARKET_DATA_DIR": str(search_settings.data_dir),
        "FAIRMARKET_SEARCH_URL": search_settings.search_url,
    }
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "scheduler"],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while recorded_masking_version(session, backend.name) != MASKING_VERSION:
            assert scheduler.poll() is None and time.monotonic() < deadline, "the scheduler did not re-mask"
            time.sleep(0.2)
            session.rollback()  # the next read sees what the scheduler committed
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(timeout=60)
    assert _leaks(session, search_settings, engine) == []
