"""Association staff cannot turn subscriptions into a scanner of the platform's own network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alerts.channels import GENERIC_DELIVERY_ERROR
from alerts.delivery import deliver_due
from alerts.enqueue import enqueue_pending
from api.main import create_app
from core.config import Settings
from core.db import session_factory
from core.models import AuditLog, Delivery
from tests.alerts.receiver import Receiver
from tests.utils.alerts import make_alert, make_merchant, make_subscription, staff_headers
from tests.utils.auth import make_association


@pytest.fixture
def production_like(settings: Settings) -> Settings:
    """The test settings without the allow-list for local receivers."""
    return settings.model_copy(update={"delivery_allowed_hosts": []})


@pytest.fixture
def guarded_client(production_like: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(production_like)) as client:
        yield client


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.mark.parametrize(
    "target",
    [
        {"channels": ["webhook"], "webhook_url": "http://127.0.0.1:5432/"},
        {"channels": ["webhook"], "webhook_url": "http://169.254.169.254/latest/meta-data/"},
        {"channels": ["webhook"], "webhook_url": "http://2130706433/"},
        {"channels": ["webhook"], "webhook_url": "http://0.0.0.0:8000/"},
        {"channels": ["webhook"], "webhook_url": "http://[::1]:8000/"},
        {"channels": ["webhook"], "webhook_url": "http://0x7f.1/"},
        {"channels": ["webhook"], "webhook_url": "http://10.1.2.3/"},
        {"channels": ["im"], "apprise_urls": ["json://192.168.0.1:9200/"]},
        {"channels": ["im"], "apprise_urls": ["json://0x7f000001:6379/"]},
    ],
)
def test_internal_targets_are_refused_on_save(
    guarded_client: TestClient, db: Session, production_like: Settings, target: dict
) -> None:
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    chaoshi = staff_headers(db, production_like, "chaoshi", "association_staff", supermarkets)
    created = guarded_client.post("/api/subscriptions", json={"name": "探测", **target}, headers=chaoshi)
    assert created.status_code == 422
    assert "内部网络" in created.json()["error"]["message"]

    fine = guarded_client.post("/api/subscriptions", json={"name": "收件箱"}, headers=chaoshi).json()
    patched = guarded_client.patch(f"/api/subscriptions/{fine['id']}", json=target, headers=chaoshi)
    assert patched.status_code == 422


def test_a_target_that_turned_internal_is_refused_at_send_and_only_admins_see_why(
    guarded_client: TestClient, db: Session, engine: Engine, production_like: Settings
) -> None:
    """The name resolved to a public address when saved; now it is loopback (DNS rebinding)."""
    receiver = Receiver("s" * 32).start()
    try:
        supermarkets = make_association(db, "chaoshi", ["supermarket"])
        chaoshi = staff_headers(db, production_like, "chaoshi", "association_staff", supermarkets)
        admin = staff_headers(db, production_like, "root", "admin", None)
        make_subscription(
            db, supermarkets, channels=["webhook"], webhook_url=receiver.url, webhook_secret="s" * 32
        )
        alert = make_alert(db, merchant=make_merchant(db, "大润发", "supermarket"), product=None)
        enqueue_pending(db)
        stats = deliver_due(session_factory(engine), production_like)
    finally:
        receiver.stop()
    assert stats.sent == 0 and not receiver.arrivals
    row = db.scalar(select(Delivery).where(Delivery.channel == "webhook"))
    assert row is not None and row.status == "dead" and "target refused" in (row.last_error or "")

    seen = guarded_client.get(f"/api/alerts/{alert.id}/deliveries", headers=chaoshi).json()["data"]
    assert [d["last_error"] for d in seen if d["channel"] == "webhook"] == [GENERIC_DELIVERY_ERROR]
    inbox = guarded_client.get("/api/inbox", headers=chaoshi).json()["data"]
    assert [c["last_error"] for c in inbox[0]["channels"]] == [GENERIC_DELIVERY_ERROR]
    detail = guarded_client.get(f"/api/alerts/{alert.id}/deliveries", headers=admin).json()["data"]
    assert any("target refused" in (d["last_error"] or "") for d in detail)


def test_webhook_credentials_are_redacted_in_lists_and_the_audit_log(
    client: TestClient, db: Session, settings: Settings
) -> None:
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    chaoshi = staff_headers(db, settings, "chaoshi", "association_staff", supermarkets)
    url = "http://hookuser:hunter2secret@127.0.0.1:8080/hook"
    created = client.post(
        "/api/subscriptions",
        json={"name": "带口令", "channels": ["webhook"], "webhook_url": url},
        headers=chaoshi,
    )
    assert created.status_code == 201, created.text
    assert created.json()["webhook_url"] == "http://***@127.0.0.1:8080/hook"
    listed = client.get("/api/subscriptions", headers=chaoshi).text
    assert "hunter2secret" not in listed and "hookuser" not in listed
    client.patch(f"/api/subscriptions/{created.json()['id']}", json={"name": "改名"}, headers=chaoshi)
    logged = " ".join(str(row.before) + str(row.after) for row in db.scalars(select(AuditLog)))
    assert "hunter2secret" not in logged and "***@127.0.0.1" in logged
