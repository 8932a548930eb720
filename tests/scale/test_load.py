"""Load on loopback: two uvicorn worker processes over one database, 50 clients filing complaints while
staff search; every acknowledged complaint is stored exactly once and findable by search.

The count is FAIRMARKET_LOAD_COMPLAINTS (default 400); benchmarks/scale_load.py runs the issue's 5,000.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from core.db import make_engine
from core.models import Complaint
from tests.scale.load import (
    ROOT,
    app_environment,
    find_marker,
    prepare_database,
    run_load,
    running_api,
    staff_headers,
)

COMPLAINTS = int(os.environ.get("FAIRMARKET_LOAD_COMPLAINTS", "400"))
MARKER = re.compile(r"lt(\d{6})x")


def _marker(text: str) -> int:
    """The load test's number written into a complaint's text."""
    found = MARKER.search(text)
    assert found is not None, text
    return int(found.group(1))


pytestmark = pytest.mark.slow


async def _search_every(base_url: str, numbers: list[int]) -> dict[int, list[int]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        headers = await staff_headers(client)
        semaphore = asyncio.Semaphore(20)

        async def one(number: int) -> list[int]:
            async with semaphore:
                return await find_marker(client, headers, number)

        found = await asyncio.gather(*(one(number) for number in numbers))
    return dict(zip(numbers, found, strict=True))


def test_every_acknowledged_complaint_is_stored_once_and_findable(db_url: str, tmp_path: Path) -> None:
    prepare_database(db_url)
    environment = app_environment(db_url, tmp_path / "data")
    with running_api(environment, workers=2) as base_url:
        report = asyncio.run(run_load(base_url, COMPLAINTS))
        print(f"\nload ({db_url.split(':')[0]}, 2 workers): {report.summary()}")
        found = asyncio.run(_search_every(base_url, sorted(report.acknowledged)))

    assert not report.refused, report.refused
    assert len(report.acknowledged) == COMPLAINTS
    assert report.search_ms and not report.search_errors, report.search_errors

    engine = make_engine(db_url)
    with engine.connect() as connection:
        stored = connection.execute(select(Complaint.id, Complaint.text)).all()
    engine.dispose()
    stored_markers = Counter(_marker(text) for _, text in stored)
    assert len(stored) == COMPLAINTS
    assert set(stored_markers) == set(report.acknowledged)
    assert max(stored_markers.values()) == 1
    stored_ids = {number: id_ for id_, text in stored for number in [_marker(text)]}
    assert stored_ids == report.acknowledged

    assert {number: ids for number, ids in found.items() if ids != [report.acknowledged[number]]} == {}
    check = subprocess.run(
        [sys.executable, "-m", "cli.main", "reindex", "--check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
