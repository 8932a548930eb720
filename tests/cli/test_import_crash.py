"""A real import process killed (SIGKILL) between committing a batch and indexing it: the rows are kept,
``fairmarket reindex --check --repair`` makes every one searchable, and running the import again stores
the rest without adding any row twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from cli.main import app
from core.models import Complaint
from importing.complaints import BATCH_SIZE, PAUSE_AFTER_COMMIT
from tests.utils.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
ROWS = BATCH_SIZE * 2 + 200  # the first batch is committed when the process dies, the others never are
# One word that only the complaints of the first batch use, one that only those after it use.
FIRST_BATCH_WORD, LATER_WORD = "鲅鱼", "榴莲"


@pytest.fixture(params=["fts5", "elasticsearch"])
def search_url(request: pytest.FixtureRequest, cli_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from core.config import get_settings

    url = request.getfixturevalue("osmem_clone").url if request.param == "elasticsearch" else ""
    monkeypatch.setenv("FAIRMARKET_SEARCH_URL", url)
    get_settings.cache_clear()
    return str(url)


def _reindex_check(runner: CliRunner, *options: str) -> dict[str, object]:
    result = runner.invoke(app, ["reindex", "--check", "--json", *options])
    report: dict[str, object] = json.loads(result.stdout)
    return report


def _found(runner: CliRunner, word: str) -> int:
    result = runner.invoke(app, ["search", word, "--json"])
    assert result.exit_code == 0, result.output
    total: int = json.loads(result.stdout)["total"]
    return total


@pytest.mark.slow
def test_crash_between_commit_and_index_is_repaired_and_rerun_adds_nothing_twice(
    search_url: str, cli_env: str, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "history.jsonl"
    word = [FIRST_BATCH_WORD if n < BATCH_SIZE else LATER_WORD for n in range(ROWS)]
    path.write_text(
        "".join(
            json.dumps(
                {
                    "text": f"第{n}号投诉：在市场买的{word[n]}不新鲜",
                    "created_at": f"2026-01-{1 + n % 28:02d} {n // 60 % 24:02d}:{n % 60:02d}",
                },
                ensure_ascii=False,
            )
            + "\n"
            for n in range(ROWS)
        ),
        "utf-8",
    )
    marker = tmp_path / "committed"
    environment = {
        **os.environ,
        "FAIRMARKET_DATABASE_URL": cli_env,
        "FAIRMARKET_DATA_DIR": str(tmp_path / "data"),
        "FAIRMARKET_SEARCH_URL": search_url,
        "FAIRMARKET_INDEX_WORKERS": "1",
        PAUSE_AFTER_COMMIT: str(marker),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "import", "complaints", str(path)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: marker.exists() or process.poll() is not None, "the first commit", timeout=120)
        assert marker.exists(), f"the import ended ({process.returncode}) without reaching its first commit"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    engine = create_engine(cli_env)
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(Complaint))
    assert stored == BATCH_SIZE, "the committed batch survives the crash"
    drift = _reindex_check(runner)
    assert drift["missing"] == BATCH_SIZE and not drift["consistent"]
    assert _found(runner, FIRST_BATCH_WORD) == 0, "killed before its batch was indexed"

    repaired = _reindex_check(runner, "--repair")
    assert repaired["repaired"] == BATCH_SIZE and repaired["consistent_after_repair"] is True
    assert _found(runner, FIRST_BATCH_WORD) == BATCH_SIZE

    again = runner.invoke(app, ["import", "complaints", str(path)])
    assert again.exit_code == 0, again.output
    assert f"imported {ROWS - BATCH_SIZE} / skipped {BATCH_SIZE} / rejected 0" in again.output
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Complaint)) == ROWS
        distinct = conn.scalar(select(func.count(func.distinct(Complaint.text))))
        assert distinct == ROWS, "no complaint stored twice"
    engine.dispose()
    assert _reindex_check(runner)["consistent"] is True
    assert _found(runner, FIRST_BATCH_WORD) == BATCH_SIZE
    assert _found(runner, LATER_WORD) == ROWS - BATCH_SIZE
