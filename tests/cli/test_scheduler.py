"""``fairmarket scheduler`` refuses what it cannot run before it starts (the running process: tests/jobs)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from core.config import get_settings


def test_scheduler_refuses_unknown_jobs(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["scheduler", "--run-now", "detect", "--run-now", "harvest"])
    assert result.exit_code == 2
    assert "未知任务：harvest" in result.output


def test_scheduler_refuses_a_bad_timetable(
    cli_env: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRMARKET_SCHEDULE_DETECT", "61 6 * * *")
    get_settings.cache_clear()
    result = runner.invoke(app, ["scheduler"])
    assert result.exit_code == 1
    assert "调度配置有误" in result.output
    assert "FAIRMARKET_SCHEDULE_DETECT" in result.output
