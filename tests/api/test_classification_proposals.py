"""A trade association cannot re-route a complaint or train the classifier: it proposes, the consumer
association accepts or refuses, and both are audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from complaints.classification import ComplaintClassifier
from complaints.intake import learn_corrections
from core.config import Settings
from core.db import session_factory
from core.models import AuditLog, Complaint
from tests.utils.alerts import staff_headers
from tests.utils.auth import make_association


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def staff(db: Session, settings: Settings) -> dict[str, dict[str, str]]:
    consumer = make_association(db, "xiaoxie", [], consumer=True)
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    pharmacies = make_association(db, "yaodian", ["pharmacy"])
    return {
        "xiehui": staff_headers(db, settings, "xiehui", "consumer_staff", consumer),
        "chaoshi": staff_headers(db, settings, "chaoshi", "association_staff", supermarkets),
        "yaodian": staff_headers(db, settings, "yaodian", "association_staff", pharmacies),
    }


def _file(client: TestClient) -> int:
    body = {"text": "超市鸡蛋标价8元一斤，结账时收了12元", "industry": "supermarket", "nature": "价格"}
    response = client.post("/api/complaints", json=body)
    assert response.status_code == 201
    return int(response.json()["id"])


def _audited(db: Session, action: str) -> list[AuditLog]:
    db.expire_all()
    return list(db.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_an_association_proposes_and_nothing_moves_until_the_consumer_association_decides(
    client: TestClient, db: Session, staff: dict[str, dict[str, str]]
) -> None:
    complaint_id = _file(client)
    moved = client.patch(
        f"/api/complaints/{complaint_id}/classification",
        json={"industry": "pharmacy"},
        headers=staff["chaoshi"],
    )
    assert moved.status_code == 403 and "更正建议" in moved.json()["error"]["message"]

    proposals = f"/api/complaints/{complaint_id}/classification-proposals"
    assert client.post(proposals, json={"industry": "pharmacy"}, headers=staff["yaodian"]).status_code == 404
    proposed = client.post(
        proposals, json={"industry": "pharmacy", "note": "药店专柜"}, headers=staff["chaoshi"]
    )
    assert proposed.status_code == 201 and proposed.json()["status"] == "pending"
    assert _audited(db, "complaint.classification_proposed")

    detail = client.get(f"/api/complaints/{complaint_id}", headers=staff["chaoshi"]).json()
    assert detail["industry"] == "supermarket" and detail["industry_corrected"] is False
    assert detail["timeline"][-1]["action"] == "classification_proposed"
    assert learn_corrections(db, ComplaintClassifier()) == 0  # nothing for the classifier to learn

    queue = client.get(
        "/api/complaints/classification-proposals", params={"status": "pending"}, headers=staff["xiehui"]
    )
    assert queue.json()["count"] == 1
    assert client.get("/api/complaints/classification-proposals", headers=staff["chaoshi"]).status_code == 403
    decide = f"/api/complaints/classification-proposals/{proposed.json()['id']}"
    assert client.post(f"{decide}/accept", headers=staff["chaoshi"]).status_code == 403

    refused = client.post(f"{decide}/refuse", json={"note": "仍属超市"}, headers=staff["xiehui"])
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert client.post(f"{decide}/accept", headers=staff["xiehui"]).status_code == 409
    assert _audited(db, "complaint.classification_proposal_refused")
    db.expire_all()
    complaint = db.get(Complaint, complaint_id)
    assert complaint is not None and complaint.industry == "supermarket" and not complaint.industry_corrected
    assert learn_corrections(db, ComplaintClassifier()) == 0

    again = client.post(proposals, json={"industry": "pharmacy"}, headers=staff["chaoshi"]).json()
    accepted = client.post(
        f"/api/complaints/classification-proposals/{again['id']}/accept", headers=staff["xiehui"]
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    audit = _audited(db, "complaint.classification_proposal_accepted")
    assert audit and audit[0].after is not None and audit[0].after["industry"] == "pharmacy"
    assert client.get(f"/api/complaints/{complaint_id}", headers=staff["chaoshi"]).status_code == 404
    assert client.get(f"/api/complaints/{complaint_id}", headers=staff["yaodian"]).status_code == 200
    assert learn_corrections(db, ComplaintClassifier()) == 1  # the accepted correction alone
