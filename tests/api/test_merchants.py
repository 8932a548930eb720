"""/api/merchants: a merchant's complaint record beside its industry's medians, aggregates only."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from complaints.workflow import transition
from core.db import session_factory
from core.models import Complaint, ComplaintEvent, Merchant

PHONE = "13912345678"


def _complaints(engine: Engine) -> dict[str, int]:
    """A chain store with 8 complaints (6 accepted, 5 mediated: 4 resolved, 1 ended) and two peers."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=3)
    with session_factory(engine)() as session:
        chain = Merchant(name="冰城惠民超市(学府路店)", industry="supermarket", district="南岗区")
        corner = Merchant(name="老街便利店", industry="supermarket", district="道里区")
        quiet = Merchant(name="江北生鲜超市", industry="supermarket", district="松北区")
        session.add_all([chain, corner, quiet])
        session.flush()
        paths = [
            ["accepted", "mediating", "resolved", "closed"],
            ["accepted", "mediating", "resolved"],
            ["accepted", "mediating", "resolved"],
            ["accepted", "mediating", "resolved"],
            ["accepted", "mediating", "mediation_ended"],
            ["accepted"],
            ["rejected"],
            [],
        ]
        for index, path in enumerate(paths):
            complaint = Complaint(
                tracking_code=f"TS-M{index:04d}",
                text=f"结账多收钱，联系{PHONE}",
                merchant_id=chain.id,
                merchant_name=chain.name,
                nature="价格" if index % 2 else "质量",
                industry="supermarket",
                created_at=now,
                status="received",
            )
            complaint.events.append(
                ComplaintEvent(at=now, actor="public", action="received", to_status="received")
            )
            for step in path:
                transition(
                    complaint,
                    step,
                    actor="xiehui",
                    note="原因" if step in ("rejected", "mediation_ended") else None,
                )
            session.add(complaint)
        for index in range(2):
            complaint = Complaint(
                tracking_code=f"TS-C{index:04d}",
                text="服务差",
                merchant_id=corner.id,
                industry="supermarket",
                created_at=now,
                status="received",
            )
            complaint.events.append(
                ComplaintEvent(at=now, actor="public", action="received", to_status="received")
            )
            session.add(complaint)
        session.commit()
        return {"chain": chain.id, "corner": corner.id, "quiet": quiet.id}


def test_merchant_record_counts_rates_and_industry_medians(client: TestClient, engine: Engine) -> None:
    ids = _complaints(engine)
    response = client.get(f"/api/merchants/{ids['chain']}")
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["complaints"], record["accepted"], record["mediated"]) == (8, 6, 5)
    assert (record["resolved"], record["ended_without_agreement"]) == (4, 1)
    assert record["response_rate"] == 5 / 6 and record["resolution_rate"] == 4 / 5
    assert record["industry_name"] == "超市连锁" and record["industry_merchants"] == 2
    assert record["industry_median_complaints"] == 5.0
    assert {c["label"] for c in record["by_nature"]} == {"价格/哄抬价格", "质量"}
    assert PHONE not in response.text and "xiehui" not in response.text

    small = client.get(f"/api/merchants/{ids['corner']}").json()
    assert small["complaints"] == 2 and small["response_rate"] is None, "too few cases for a rate"
    assert client.get("/api/merchants/987654").status_code == 404


def test_merchant_list_orders_by_complaints_and_filters_by_name(client: TestClient, engine: Engine) -> None:
    _complaints(engine)
    listed = client.get("/api/merchants").json()
    assert [m["name"] for m in listed["data"]] == ["冰城惠民超市(学府路店)", "老街便利店"]
    assert listed["data"][0]["complaints"] == 8
    assert client.get("/api/merchants", params={"q": "便利"}).json()["count"] == 1
    assert client.get("/api/merchants", params={"q": "%"}).json()["count"] == 0
    assert client.get("/api/merchants", params={"industry": "pharmacy"}).json()["count"] == 0
