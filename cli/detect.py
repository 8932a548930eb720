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
        None,
        "--as-of",
        "--until",
        help="Last day to judge (YYYY-MM-DD); default: the newest price observation.",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="First day to judge (YYYY-MM-DD): every day from it to --until, as the daily runs would "
        "have (one alert per episode); default: the last day only.",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print each alert raised or updated as one JSON object per line."
    ),
) -> None:
    """Run every gouging rule now and raise or update alerts."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from analysis.rules import RuleError
    from core.config import get_settings
    from core.db import get_engine, prepare_database, session_scope
    from jobs.detection import run_detection_span

    day, first = _parse_day(as_of), _parse_day(since)
    if day is not None and first is not None and first > day:
        raise typer.BadParameter(f"--since {first} 晚于 --until {day}")
    settings = get_settings()
    engine = get_engine()
    prepare_database(engine)
    bar = Progress(
        TextColumn("检测 {task.fields[span]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} {task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=first is None,
    )
    task = bar.add_task("", total=1, span=f"{first} 起")

    def advance(done: int, total: int, doing: str) -> None:
        bar.update(task, completed=done, total=total, description=doing)

    try:
        with bar, session_scope(engine) as session:
            run = run_detection_span(
                session, settings, as_of=day, since=first, on_wait=_say_waiting, on_progress=advance
            )
    except RuleError as exc:
        typer.echo(f"规则文件有误: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    results = run.results
    if as_json:
        for result in results:
            typer.echo(json.dumps(result.as_json(), ensure_ascii=False, sort_keys=True))
        return
    raised = sum(result.action == "raised" for result in results)
    span = f"{run.since}..{run.as_of}" if run.since != run.as_of else f"{run.as_of}"
    typer.echo(f"检测完成（{span}）：新增预警 {raised} 条，更新预警 {len(results) - raised} 条")
    for result in results:
        typer.echo(
            f"  [{result.severity}] {result.rule} {result.merchant or '-'} {result.product or '-'} "
            f"{result.region or '-'} {result.start_date}..{result.end_date} ({result.action})"
        )
