"""``fairmarket detect``: run gouging detection now."""

from __future__ import annotations

import datetime as dt
import json

import typer


def _parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD: {value!r}") from exc


def _say_waiting() -> None:
    typer.echo("另一个检测任务正在运行（定时任务或另一条 fairmarket detect），等待其完成后再检测…", err=True)


def detect(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Last day to judge (YYYY-MM-DD); default: the newest price observation."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print each alert raised or updated as one JSON object per line."
    ),
) -> None:
    """Run every gouging rule now and raise or update alerts."""
    from analysis.rules import RuleError
    from core.config import get_settings
    from core.db import get_engine, session_scope, upgrade_database
    from jobs.detection import run_detection

    day = _parse_day(as_of)
    settings = get_settings()
    engine = get_engine()
    upgrade_database(engine)
    try:
        with session_scope(engine) as session:
            results = run_detection(session, settings, as_of=day, on_wait=_say_waiting)
    except RuleError as exc:
        typer.echo(f"规则文件有误: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if as_json:
        for result in results:
            typer.echo(json.dumps(result.as_json(), ensure_ascii=False, sort_keys=True))
        return
    raised = sum(result.action == "raised" for result in results)
    typer.echo(f"检测完成：新增预警 {raised} 条，更新预警 {len(results) - raised} 条")
    for result in results:
        typer.echo(
            f"  [{result.severity}] {result.rule} {result.merchant or '-'} {result.product or '-'} "
            f"{result.region or '-'} {result.start_date}..{result.end_date} ({result.action})"
        )
