"""/api/subscriptions: validation, ownership, secrets shown once, bot tokens never shown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import session_factory
from core.models import AuditLog, Subscription
from tests.utils.alerts import make_product, staff_headers
from tests.utils.auth import make_association


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def staff(db: Session, settings: Settings) -> dict[str, object]:
    consumer = make_association(db, "xiaoxie", [], consumer=True)
    supermarkets = make_association(db, "chaoshi", ["supermarket", "farm_market"])
    pharmacies = make_association(db, "yaodian", ["pharmacy"])
    return {
        "supermarkets": supermarkets.id,
        "pharmacies": pharmacies.id,
        "xiehui": staff_headers(db, settings, "xiehui", "consumer_staff", consumer),
        "chaoshi": staff_headers(db, settings, "chaoshi", "association_staff", supermarkets),
        "yaodian": staff_headers(db, settings, "yaodian", "association_staff", pharmacies),
    }


def test_association_creates_its_own_subscription_with_a_generated_secret(
    client: TestClient, staff: dict, db: Session
) -> None:
    pork = make_product(db, "猪肉", "肉类")
    response = client.post(
        "/api/subscriptions",
        json={
            "name": "肉类高等级预警",
            "industries": ["超市连锁"],
            "products": [pork.id],
            "districts": ["南岗区"],
            "min_severity": "high",
            "channels": ["webhook", "im"],
            "webhook_url": "https://hooks.chaoshi.example.cn/fairmarket",
            "apprise_urls": ["dingtalk://0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab1234"],
            "quiet_hours": "22:00-07:00",
        },
        headers=staff["chaoshi"],
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["association_id"] == staff["supermarkets"]
    assert created["industries"] == ["supermarket"]
    assert created["channels"] == ["inbox", "webhook", "im"]
    assert len(created["webhook_secret"]) >= 32 and created["webhook_secret_set"]
    assert created["apprise_urls"] == ["dingtalk://…1234"]

    shown = client.get(f"/api/subscriptions/{created['id']}", headers=staff["chaoshi"]).json()
    assert "webhook_secret" not in shown and "0123456789abcdef" not in str(shown)
    stored = db.get(Subscription, created["id"])
    assert stored is not None and stored.webhook_secret == created["webhook_secret"]
    audit = db.scalars(select(AuditLog).where(AuditLog.entity == "subscription")).all()
    assert [entry.action for entry in audit] == ["subscription.create"]
    assert created["webhook_secret"] not in str(audit[0].after)

    rotated = client.post(
        f"/api/subscriptions/{created['id']}/rotate-secret", headers=staff["chaoshi"]
    ).json()
    assert rotated["webhook_secret"] != created["webhook_secret"]


BAD_SUBSCRIPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"industries": ["pharmacy"]}, "超出本协会范围"),
    ({"name": "   "}, "name"),
    ({"industries": ["航天"]}, "未知的行业"),
    ({"channels": ["webhook"]}, "webhook_url"),
    ({"channels": ["email"], "email": "not-an-address"}, "邮箱"),
    ({"channels": ["im"], "apprise_urls": ["nonsense://x"]}, "不支持"),
    ({"channels": ["webhook"], "webhook_url": "ftp://x.example.cn"}, "http(s)"),
    ({"channels": ["sms"]}, ""),
    ({"quiet_hours": "25:00-07:00"}, "HH:MM"),
    ({"min_severity": "extreme"}, ""),
    ({"products": [987654]}, "商品不存在"),
]


def test_bad_subscriptions_are_refused_clearly(client: TestClient, staff: dict) -> None:
    for fields, fragment in BAD_SUBSCRIPTIONS:
        response = client.post("/api/subscriptions", json={"name": "x", **fields}, headers=staff["chaoshi"])
        assert response.status_code == 422, (fields, response.text)
        assert fragment in response.text, (fields, response.text)


def test_ownership(client: TestClient, staff: dict) -> None:
    other = client.post(
        "/api/subscriptions",
        json={"name": "x", "association_id": staff["pharmacies"]},
        headers=staff["chaoshi"],
    )
    assert other.status_code == 403
    missing = client.post("/api/subscriptions", json={"name": "x"}, headers=staff["xiehui"])
    assert missing.status_code == 422
    by_consumer = client.post(
        "/api/subscriptions",
        json={"name": "药店全部", "association_id": staff["pharmacies"]},
        headers=staff["xiehui"],
    )
    assert by_consumer.status_code == 201
    sub_id = by_consumer.json()["id"]
    assert client.get(f"/api/subscriptions/{sub_id}", headers=staff["chaoshi"]).status_code == 404
    assert client.get(f"/api/subscriptions/{sub_id}", headers=staff["yaodian"]).status_code == 200
    assert client.get("/api/subscriptions", headers=staff["chaoshi"]).json()["count"] == 0
    assert client.get("/api/subscriptions", headers=staff["xiehui"]).json()["count"] == 1
    assert client.get("/api/subscriptions").status_code == 401


def test_update_is_checked_as_a_whole_and_delete_switches_off(client: TestClient, staff: dict) -> None:
    created = client.post("/api/subscriptions", json={"name": "基础"}, headers=staff["chaoshi"]).json()
    url = f"/api/subscriptions/{created['id']}"
    assert client.patch(url, json={"channels": ["email"]}, headers=staff["chaoshi"]).status_code == 422
    changed = client.patch(
        url,
        json={"channels": ["email"], "email": "jc@chaoshi.example.cn", "daily_digest": True},
        headers=staff["chaoshi"],
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["channels"] == ["inbox", "email"] and changed.json()["daily_digest"] is True
    assert client.delete(url, headers=staff["yaodian"]).status_code == 404
    assert client.delete(url, headers=staff["chaoshi"]).status_code == 204
    assert client.get(url, headers=staff["chaoshi"]).json()["active"] is False
