"""``fairmarket status``: counts and the newest run of each job and spider, as JSON and as tables."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from core.db import make_engine, session_scope, upgrade_database
from core.models import CrawlRun, JobRun, QuarantinedItem

START = dt.datetime(2026, 3, 1, 6, 0)


def _seed_runs(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add_all(
            [
                JobRun(job="detect", started_at=START, finished_at=START, status="ok"),
                JobRun(job="detect", started_at=START + dt.timedelta(days=1), status="failed", error="boom"),
                JobRun(job="crawl", started_at=START, finished_at=START, status="ok"),
                CrawlRun(spider="xinfadi", started_at=START, status="ok", items_stored=10),
                CrawlRun(
                    spider="xinfadi", started_at=START + dt.timedelta(days=1), status="failed", errors=3
                ),
                QuarantinedItem(source="xinfadi", reason="负价格", raw={}, fingerprint="f" * 64),
            ]
        )


def test_status_json(cli_env: str, runner: CliRunner) -> None:
    engine = make_engine(cli_env)
    upgrade_database(engine)
    _seed_runs(engine)
    engine.dispose()
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["database"]["dialect"] in {"sqlite", "postgresql"}
    assert status["search_backend"] == "sqlite-fts5"
    assert (status["complaints"], status["price_observations"], status["quarantined_items"]) == (0, 0, 1)
    assert (status["provisional_goods"], status["alerts"], status["open_alerts"]) == (0, 0, 0)
    assert status["last_runs"]["detect"] == {
        "started_at": "2026-03-02T06:00:00",
        "finished_at": None,
        "status": "failed",
        "error": "boom",
    }
    assert status["last_runs"]["crawl"]["status"] == "ok"
    assert status["crawl_runs"]["total"] == 2 and status["crawl_runs"]["failed"] == 1
    assert status["crawl_runs"]["last"]["xinfadi"]["errors"] == 3


def test_status_tables_on_an_empty_database(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "sqlite-fts5" in result.output and "no job has run yet" in result.output
