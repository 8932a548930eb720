"""``fairmarket complaints overdue|reclassify``: the workflow's overdue list and re-running the classifier."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

app = typer.Typer(help="投诉：逾期清单、重新分类", no_args_is_help=True)

BATCH = 1000


def _sessions() -> sessionmaker[Session]:
    from core.config import get_settings
    from core.db import get_engine, session_factory, upgrade_database

    engine = get_engine(get_settings().resolved_database_url)
    upgrade_database(engine)
    return session_factory(engine)


@app.command("overdue")
def overdue(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """List complaints past their accept or mediation deadline (working days, China time)."""
    from sqlalchemy import select

    from complaints.workflow import STATUS_NAMES, overdue_condition
    from core.clock import china_today
    from core.models import Complaint

    today = china_today()
    with _sessions()() as session:
        rows = session.scalars(
            select(Complaint).where(overdue_condition(today)).order_by(Complaint.created_at, Complaint.id)
        ).all()
        items = [
            {
                "id": c.id,
                "tracking_code": c.tracking_code,
                "status": c.status,
                "deadline": str(c.accept_deadline if c.status == "received" else c.mediate_deadline),
                "industry": c.industry,
                "association_id": c.association_id,
            }
            for c in rows
        ]
    if as_json:
        typer.echo(
            json.dumps({"today": str(today), "count": len(items), "complaints": items}, ensure_ascii=False)
        )
        return
    table = Table(title=f"逾期投诉（{today}）：{len(items)} 件")
    for column in ("ID", "查询码", "状态", "期限", "行业", "协会"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            str(item["tracking_code"]),
            STATUS_NAMES.get(str(item["status"]), str(item["status"])),
            str(item["deadline"]),
            str(item["industry"] or "-"),
            str(item["association_id"] or "-"),
        )
    Console().print(table)


@app.command("reclassify")
def reclassify() -> None:
    """Classify every complaint again (after the keyword priors changed), keeping staff corrections.

    Complaints whose industry changes are routed to the matching association. Run ``fairmarket
    reindex`` afterwards so the search index shows the new labels.
    """
    from sqlalchemy import select

    from complaints.classification import ComplaintClassifier
    from complaints.intake import classify_complaint, learn_corrections
    from complaints.routing import association_for_industry
    from core.models import Complaint

    sessions = _sessions()
    classifier = ComplaintClassifier()
    with sessions() as session:
        learnt = learn_corrections(session, classifier)
    changed = seen = 0
    last_id = 0
    while True:
        with sessions() as session:
            batch = session.scalars(
                select(Complaint).where(Complaint.id > last_id).order_by(Complaint.id).limit(BATCH)
            ).all()
            if not batch:
                break
            for complaint in batch:
                before = (complaint.nature, complaint.industry)
                classify_complaint(complaint, classifier)
                if complaint.industry != before[1]:
                    association = association_for_industry(session, complaint.industry)
                    complaint.association_id = association.id if association else None
                changed += (complaint.nature, complaint.industry) != before
            seen += len(batch)
            last_id = batch[-1].id
            session.commit()
    typer.echo(f"重新分类 {seen} 件投诉，{changed} 件有变化（已学习 {learnt} 条人工更正）")
