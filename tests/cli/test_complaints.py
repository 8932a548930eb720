"""``fairmarket complaints overdue|reclassify`` against a real database."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from complaints.intake import correct_classification, create_complaint
from complaints.schemas import ComplaintCreate
from core.db import make_engine, session_scope, upgrade_database
from core.models import Association, Complaint


def _seed(url: str) -> dict[str, int]:
    engine = make_engine(url)
    upgrade_database(engine)
    with session_scope(engine) as session:
        session.add(Association(code="chaoshi", name="超市协会", industries=["supermarket"]))
        late = create_complaint(
            session,
            ComplaintCreate(text="超市鸡蛋标价8元结账收12元"),
            channel="api",
            actor="public",
            created_at=dt.datetime(2024, 9, 2, 2, 0),
        )
        fresh = create_complaint(
            session, ComplaintCreate(text="药店口罩涨价到五十元"), channel="api", actor="p"
        )
        corrected = create_complaint(
            session, ComplaintCreate(text="超市买的牛奶过期了"), channel="api", actor="p"
        )
        correct_classification(session, corrected, actor="xiehui", industry="catering")
        session.flush()
        ids = {"late": late.id, "fresh": fresh.id, "corrected": corrected.id}
    engine.dispose()
    return ids


def test_overdue_lists_complaints_past_their_deadline(cli_env: str, runner: CliRunner) -> None:
    ids = _seed(cli_env)
    result = runner.invoke(app, ["complaints", "overdue", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [c["id"] for c in listed["complaints"]] == [ids["late"]]
    assert listed["complaints"][0]["deadline"] == "2024-09-11"

    table = runner.invoke(app, ["complaints", "overdue"])
    assert table.exit_code == 0 and "逾期投诉" in table.output


def test_reclassify_keeps_corrections(cli_env: str, runner: CliRunner) -> None:
    ids = _seed(cli_env)
    engine = make_engine(cli_env)
    with session_scope(engine) as session:
        fresh = session.get(Complaint, ids["fresh"])
        assert fresh is not None
        fresh.nature, fresh.industry = "其他", "other"
    result = runner.invoke(app, ["complaints", "reclassify"])
    assert result.exit_code == 0, result.output
    assert "重新分类 3 件投诉" in result.output
    with session_scope(engine) as session:
        labels = {c.id: (c.nature, c.industry) for c in session.scalars(select(Complaint))}
    engine.dispose()
    assert labels[ids["fresh"]] == ("价格", "pharmacy")
    assert labels[ids["corrected"]][1] == "catering"
