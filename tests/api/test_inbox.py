"""/api/inbox: alerts in an association's subscriptions and complaints routed to it, read marks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts.enqueue import enqueue_pending
from core.config import Settings
from core.db import session_factory
from core.models import Complaint
from tests.utils.alerts import make_alert, make_merchant, make_subscription, staff_headers
from tests.utils.auth import make_association


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def test_inbox_holds_alerts_and_routed_complaints_of_the_association(
    client: TestClient, db: Session, settings: Settings
) -> None:
    consumer = make_association(db, "xiaoxie", [], consumer=True)
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    pharmacies = make_association(db, "yaodian", ["pharmacy"])
    xiehui = staff_headers(db, settings, "xiehui", "consumer_staff", consumer)
    chaoshi = staff_headers(db, settings, "chaoshi", "association_staff", supermarkets)
    yaodian = staff_headers(db, settings, "yaodian", "association_staff", pharmacies)
    make_subscription(db, supermarkets, channels=["inbox", "email"], email="a@chaoshi.example.cn")
    alert = make_alert(db, merchant=make_merchant(db, "家乐福南岗店", "supermarket"), product=None)
    db.add(
        Complaint(
            tracking_code="TS-TEST-0002",
            text="电话13812345678，鸡蛋结账多收4元。",
            merchant_name="家乐福南岗店",
            industry="supermarket",
            association_id=supermarkets.id,
            nature="价格",
        )
    )
    db.commit()
    enqueue_pending(db)

    inbox = client.get("/api/inbox", headers=chaoshi).json()
    assert (inbox["count"], inbox["unread"]) == (2, 2)
    complaint_item, alert_item = inbox["data"]
    assert complaint_item["kind"] == "complaint" and "13812345678" not in complaint_item["body"]
    assert complaint_item["subject"] == "【公平市场】投诉转办：TS-TEST-0002 家乐福南岗店"
    assert alert_item["alert_id"] == alert.id and "参考价格" in alert_item["body"]
    assert [(c["channel"], c["status"]) for c in alert_item["channels"]] == [("email", "pending")]

    assert client.get("/api/inbox", headers=yaodian).json()["count"] == 0
    assert client.post(f"/api/inbox/{alert_item['id']}/read", headers=yaodian).status_code == 404
    read = client.post(f"/api/inbox/{alert_item['id']}/read", headers=chaoshi)
    assert read.status_code == 200 and read.json()["read_at"]
    again = client.post(f"/api/inbox/{alert_item['id']}/read", headers=chaoshi).json()
    assert again["read_at"] == read.json()["read_at"]

    unread = client.get("/api/inbox", params={"unread": True}, headers=chaoshi).json()
    assert [item["kind"] for item in unread["data"]] == ["complaint"] and unread["unread"] == 1
    alerts_only = client.get("/api/inbox", params={"kind": "alert"}, headers=chaoshi).json()
    assert alerts_only["count"] == 1

    other = client.get("/api/inbox", params={"association_id": supermarkets.id}, headers=xiehui).json()
    assert other["count"] == 2
    forbidden = client.get("/api/inbox", params={"association_id": supermarkets.id}, headers=yaodian)
    assert forbidden.status_code == 403
    assert client.get("/api/inbox").status_code == 401
