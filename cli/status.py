"""``fairmarket status [--json]``: what the installation holds and how its jobs last ran."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.config import Settings


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _count(session: Session, model: type, *where: Any) -> int:
    from sqlalchemy import func, select

    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _latest_per(session: Session, model: Any, key: Any) -> list[Any]:
    """The newest row per value of ``key`` (job name, spider)."""
    from sqlalchemy import func, select

    newest = select(key.label("key"), func.max(model.id).label("id")).group_by(key).subquery()
    return list(session.scalars(select(model).join(newest, model.id == newest.c.id).order_by(key)))


def collect_status(session: Session, settings: Settings) -> dict[str, Any]:
    """One JSON-able object: database, search backend, counts, and the last run of each job and spider."""
    from core.models import (
        Alert,
        Complaint,
        CrawlRun,
        JobRun,
        PriceObservation,
        Product,
        QuarantinedItem,
    )

    counted = {
        "complaints": Complaint,
        "price_observations": PriceObservation,
        "quarantined_items": QuarantinedItem,
        "alerts": Alert,
    }
    url = session.get_bind().engine.url
    status: dict[str, Any] = {
        "database": {"dialect": url.get_backend_name(), "url": url.render_as_string(hide_password=True)},
        "search_backend": settings.search_backend,
    }
    status.update({name: _count(session, model) for name, model in counted.items()})
    status["open_alerts"] = _count(session, Alert, Alert.status == "open")
    status["provisional_goods"] = _count(session, Product, Product.status == "provisional")
    status["last_runs"] = {
        run.job: {
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "status": run.status,
            "error": run.error,
        }
        for run in _latest_per(session, JobRun, JobRun.job)
    }
    status["crawl_runs"] = {
        "total": _count(session, CrawlRun),
        "failed": _count(session, CrawlRun, CrawlRun.status == "failed"),
        "last": {
            run.spider: {
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "status": run.status,
                "items_stored": run.items_stored,
                "items_quarantined": run.items_quarantined,
                "items_unmapped": run.items_unmapped,
                "errors": run.errors,
            }
            for run in _latest_per(session, CrawlRun, CrawlRun.spider)
        },
    }
    return status


def _print_tables(status: dict[str, Any]) -> None:
    console = Console()
    overview = Table(title="FairMarket 状态", show_header=False)
    overview.add_row("数据库 database", f"{status['database']['dialect']}  {status['database']['url']}")
    overview.add_row("检索后端 search", status["search_backend"])
    labels = {
        "complaints": "投诉 complaints",
        "price_observations": "价格记录 price observations",
        "quarantined_items": "隔离记录 quarantined",
        "provisional_goods": "待归类商品 provisional goods",
        "alerts": "预警 alerts",
        "open_alerts": "未处理预警 open alerts",
    }
    for key, label in labels.items():
        overview.add_row(label, f"{status[key]:,}")
    console.print(overview)
    runs = Table(title="最近一次运行 last runs")
    for column in ("job / spider", "status", "started_at", "finished_at", "error / items"):
        runs.add_column(column)
    for job, run in status["last_runs"].items():
        runs.add_row(job, run["status"], run["started_at"], run["finished_at"] or "-", run["error"] or "")
    for spider, run in status["crawl_runs"]["last"].items():
        items = (
            f"stored {run['items_stored']}, quarantined {run['items_quarantined']}, errors {run['errors']}"
        )
        runs.add_row(f"crawl:{spider}", run["status"], run["started_at"], run["finished_at"] or "-", items)
    if runs.row_count:
        console.print(runs)
    else:
        console.print("尚无任务运行记录 (no job has run yet)")


def status(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Show database, search backend, record counts and the last run of each job."""
    from core.config import get_settings
    from core.db import get_engine, session_factory, upgrade_database

    engine = get_engine()
    upgrade_database(engine)
    with session_factory(engine)() as session:
        result = collect_status(session, get_settings())
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_tables(result)
