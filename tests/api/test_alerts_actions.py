"""/api/alerts: who sees which alert in what detail, lifecycle steps with audit, delivery state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alerts.enqueue import enqueue_pending
from core.config import Settings
from core.db import session_factory
from core.models import Alert, AuditLog
from tests.utils.alerts import make_alert, make_merchant, make_product, make_subscription, staff_headers
from tests.utils.auth import make_association


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def world(db: Session, settings: Settings) -> dict[str, object]:
    """A consumer association, a supermarket and a pharmacy association, an alert for each trade."""
    consumer = make_association(db, "xiaoxie", [], consumer=True)
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    pharmacies = make_association(db, "yaodian", ["pharmacy"])
    make_subscription(db, supermarkets, channels=["inbox", "webhook"], webhook_url="http://127.0.0.1:9/")
    eggs, masks = make_product(db, "鸡蛋", "蛋类"), make_product(db, "口罩", "防疫用品")
    egg_alert = make_alert(db, merchant=make_merchant(db, "家乐福南岗店", "supermarket"), product=eggs)
    mask_alert = make_alert(db, merchant=make_merchant(db, "老百姓大药房", "pharmacy"), product=masks)
    enqueue_pending(db)
    return {
        "egg": egg_alert.id,
        "mask": mask_alert.id,
        "xiehui": staff_headers(db, settings, "xiehui", "consumer_staff", consumer),
        "chaoshi": staff_headers(db, settings, "chaoshi", "association_staff", supermarkets),
        "yaodian": staff_headers(db, settings, "yaodian", "association_staff", pharmacies),
    }


def test_public_list_hides_unconfirmed_merchants_peers_and_dismissed(client: TestClient, world: dict) -> None:
    response = client.get("/api/alerts")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    egg = next(item for item in body["data"] if item["id"] == world["egg"])
    assert egg["merchant"] is None and egg["product"] == "鸡蛋"
    assert "peers" not in egg["evidence"] and egg["evidence"]["change"] == 1.0
    assert "dismiss_reason" not in egg and "actions" not in egg

    client.post(f"/api/alerts/{world['egg']}/confirm", headers=world["chaoshi"])
    client.post(
        f"/api/alerts/{world['mask']}/dismiss", json={"reason": "标价含税，非涨价"}, headers=world["yaodian"]
    )
    body = client.get("/api/alerts").json()
    assert [item["id"] for item in body["data"]] == [world["egg"]]
    assert body["data"][0]["merchant"] == "家乐福南岗店"
    assert body["data"][0]["evidence"]["reference"]["value"] == 3.2
    assert "标价含税" not in client.get("/api/alerts").text
    assert client.get(f"/api/alerts/{world['mask']}").status_code == 404


def test_public_cannot_filter_by_merchant(client: TestClient, world: dict) -> None:
    response = client.get("/api/alerts", params={"merchant_id": 1})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_association_lists_and_acts_on_only_its_trade(client: TestClient, world: dict) -> None:
    listed = client.get("/api/alerts", headers=world["chaoshi"]).json()
    assert [item["id"] for item in listed["data"]] == [world["egg"]]
    assert listed["data"][0]["merchant"] == "家乐福南岗店"
    refused = client.post(f"/api/alerts/{world['mask']}/acknowledge", headers=world["chaoshi"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    everything = client.get("/api/alerts", headers=world["xiehui"]).json()
    assert everything["count"] == 2


def test_another_associations_alert_reads_as_the_public_sees_it(client: TestClient, world: dict) -> None:
    """What the public may read, anyone may: never less for staff, never the other trade's handling."""
    mask = f"/api/alerts/{world['mask']}"
    client.post(f"{mask}/acknowledge", json={"note": "已约谈药店负责人"}, headers=world["yaodian"])
    public = client.get(mask)
    other_trade = client.get(mask, headers=world["chaoshi"])
    assert public.status_code == other_trade.status_code == 200
    assert other_trade.json() == public.json()
    assert other_trade.json()["merchant"] is None and other_trade.json()["status"] == "acknowledged"
    assert "actions" not in other_trade.json() and "约谈" not in other_trade.text
    own_trade = client.get(mask, headers=world["yaodian"]).json()
    assert own_trade["merchant"] == "老百姓大药房" and own_trade["actions"][0]["note"] == "已约谈药店负责人"

    client.post(f"{mask}/confirm", headers=world["yaodian"])
    assert client.get(mask, headers=world["chaoshi"]).json()["merchant"] == "老百姓大药房"

    client.post(f"/api/alerts/{world['egg']}/dismiss", json={"reason": "促销价"}, headers=world["chaoshi"])
    assert client.get(f"/api/alerts/{world['egg']}").status_code == 404
    assert client.get(f"/api/alerts/{world['egg']}", headers=world["yaodian"]).status_code == 404
    assert (
        client.get(f"/api/alerts/{world['egg']}", headers=world["chaoshi"]).json()["dismiss_reason"]
        == "促销价"
    )


def test_filters_and_paging(client: TestClient, world: dict, db: Session) -> None:
    for _ in range(3):
        make_alert(db, merchant=make_merchant(db, "沃尔玛", "supermarket"), product=None, severity="low")
    staff = world["xiehui"]
    assert client.get("/api/alerts", params={"min_severity": "high"}, headers=staff).json()["count"] == 2
    assert client.get("/api/alerts", params={"severity": "low"}, headers=staff).json()["count"] == 3
    assert client.get("/api/alerts", params={"industry": "pharmacy"}, headers=staff).json()["count"] == 1
    page = client.get("/api/alerts", params={"size": 2, "page": 3}, headers=staff).json()
    assert page["count"] == 5 and len(page["data"]) == 1
    assert client.get("/api/alerts", params={"severity": "huge"}).status_code == 422
    assert client.get("/api/alerts", params={"size": 0}).status_code == 422


def test_lifecycle_with_actions_and_audit(client: TestClient, world: dict, db: Session) -> None:
    alert_id = world["egg"]
    response = client.post(
        f"/api/alerts/{alert_id}/acknowledge", json={"note": "已转交会员单位核查"}, headers=world["chaoshi"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged" and response.json()["status_by"] == "chaoshi"
    again = client.post(f"/api/alerts/{alert_id}/acknowledge", headers=world["chaoshi"])
    assert again.status_code == 409 and "已知悉" in again.json()["error"]["message"]

    no_reason = client.post(
        f"/api/alerts/{alert_id}/dismiss", json={"reason": "  "}, headers=world["chaoshi"]
    )
    assert no_reason.status_code == 422
    assert (
        client.post(f"/api/alerts/{alert_id}/dismiss", json={}, headers=world["chaoshi"]).status_code == 422
    )

    confirmed = client.post(f"/api/alerts/{alert_id}/confirm", headers=world["xiehui"])
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert (
        client.post(
            f"/api/alerts/{alert_id}/dismiss", json={"reason": "误报"}, headers=world["xiehui"]
        ).status_code
        == 409
    )

    consumer_view = client.get(f"/api/alerts/{alert_id}", headers=world["xiehui"]).json()
    assert [(a["actor"], a["action"]) for a in consumer_view["actions"]] == [
        ("chaoshi", "acknowledge"),
        ("xiehui", "confirm"),
    ]
    association_view = client.get(f"/api/alerts/{alert_id}", headers=world["chaoshi"]).json()
    assert [a["actor"] for a in association_view["actions"]] == ["chaoshi"]

    entries = db.scalars(select(AuditLog).where(AuditLog.entity == "alert").order_by(AuditLog.id)).all()
    assert [(e.actor, e.action, (e.after or {}).get("status")) for e in entries] == [
        ("chaoshi", "alert.acknowledge", "acknowledged"),
        ("xiehui", "alert.confirm", "confirmed"),
    ]


def test_dismiss_records_the_reason(client: TestClient, world: dict, db: Session) -> None:
    response = client.post(
        f"/api/alerts/{world['mask']}/dismiss", json={"reason": "促销结束恢复原价"}, headers=world["yaodian"]
    )
    assert response.status_code == 200
    assert response.json()["dismiss_reason"] == "促销结束恢复原价"
    db.expire_all()
    alert = db.get(Alert, world["mask"])
    assert alert is not None and (alert.status, alert.status_by) == ("dismissed", "yaodian")


def test_public_cannot_act(client: TestClient, world: dict) -> None:
    assert client.post(f"/api/alerts/{world['egg']}/acknowledge").status_code == 401
    assert client.get(f"/api/alerts/{world['egg']}/deliveries").status_code == 401


def test_deliveries_per_alert(client: TestClient, world: dict) -> None:
    mine = client.get(f"/api/alerts/{world['egg']}/deliveries", headers=world["chaoshi"]).json()
    assert mine["count"] == 2
    assert {(d["channel"], d["status"]) for d in mine["data"]} == {("inbox", "sent"), ("webhook", "pending")}
    assert client.get(f"/api/alerts/{world['egg']}/deliveries", headers=world["xiehui"]).json()["count"] == 2
    assert client.get(f"/api/alerts/{world['egg']}/deliveries", headers=world["yaodian"]).status_code == 403
    assert client.get("/api/alerts/999999/deliveries", headers=world["xiehui"]).status_code == 404


def _leaves(value: object, key: str = "") -> Iterator[tuple[str, object]]:
    """Every scalar of a JSON document with the key it stands under (list items under their list's)."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, key)
    else:
        yield key, value


def test_an_unconfirmed_alerts_evidence_names_no_merchant_through_its_prices(
    client: TestClient, db: Session, world: dict
) -> None:
    """The merchant's own prices would match exactly one public price series: only relative figures
    and the market context are public until the alert is confirmed."""
    alert = db.get(Alert, world["egg"])
    assert alert is not None
    alert.evidence = {
        **alert.evidence,
        "series": {
            "dates": ["2020-02-01", "2020-02-02"],
            "merchant": [6.41, 6.57],
            "market_median": [3.4, 3.5],
            "reference": [3.21, 3.21],
        },
    }
    db.commit()
    hidden = ("6.41", "6.57", "3.21", "6.4")
    for response in (client.get("/api/alerts"), client.get(f"/api/alerts/{world['egg']}")):
        for key, value in _leaves(response.json()):
            if key.endswith("_at"):
                continue  # a time stamp's digits (…15:54:53.216…) are no price
            shown = str(value)
            assert not any(
                price == shown or (isinstance(value, str) and price in shown) for price in hidden
            ), (
                key,
                value,
            )
        assert '"current"' not in response.text and '"reference"' not in response.text
    evidence = client.get(f"/api/alerts/{world['egg']}").json()["evidence"]
    assert evidence["series"] == {"dates": ["2020-02-01", "2020-02-02"], "market_median": [3.4, 3.5]}
    assert evidence["change"] == 1.0 and evidence["market_change"] == 0.05
    staff_view = client.get(f"/api/alerts/{world['egg']}", headers=world["chaoshi"]).json()
    assert staff_view["evidence"]["series"]["merchant"] == [6.41, 6.57]
