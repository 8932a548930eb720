"""POST /api/subscriptions/{id}/test: a signed test message reaches a real receiver, failures are named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.config import Settings
from core.db import session_factory
from tests.alerts.receiver import Receiver, free_port
from tests.utils.alerts import staff_headers
from tests.utils.auth import make_association


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def headers(engine: Engine, settings: Settings) -> Iterator[dict[str, dict[str, str]]]:
    with session_factory(engine)() as db:
        supermarkets = make_association(db, "chaoshi", ["supermarket"])
        pharmacies = make_association(db, "yaodian", ["pharmacy"])
        yield {
            "chaoshi": staff_headers(db, settings, "chaoshi", "association_staff", supermarkets),
            "yaodian": staff_headers(db, settings, "yaodian", "association_staff", pharmacies),
        }


def _subscribe(client: TestClient, headers: dict[str, str], webhook_url: str) -> dict[str, object]:
    body = {"name": "测试订阅", "channels": ["webhook"], "webhook_url": webhook_url}
    response = client.post("/api/subscriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_test_delivery_sends_a_signed_message_now(
    client: TestClient, headers: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    created = _subscribe(client, headers["chaoshi"], receiver.url)
    receiver.secret = str(created["webhook_secret"])
    response = client.post(f"/api/subscriptions/{created['id']}/test", headers=headers["chaoshi"])
    assert response.status_code == 200, response.text
    [outcome] = response.json()["data"]
    assert outcome == {
        "channel": "webhook",
        "channel_name": "Webhook",
        "target": receiver.url,
        "ok": True,
        "error": None,
    }
    [document] = receiver.documents.values()
    assert document["type"] == "test" and receiver.rejected == []

    # After a rotation the old secret no longer verifies: the receiver refuses, the page says so.
    client.post(f"/api/subscriptions/{created['id']}/rotate-secret", headers=headers["chaoshi"])
    refused = client.post(f"/api/subscriptions/{created['id']}/test", headers=headers["chaoshi"]).json()
    assert refused["data"][0]["ok"] is False and "401" in refused["data"][0]["error"]


def test_test_delivery_reports_an_unreachable_receiver_and_is_owner_only(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    created = _subscribe(client, headers["chaoshi"], f"http://127.0.0.1:{free_port()}/hook")
    outcome = client.post(f"/api/subscriptions/{created['id']}/test", headers=headers["chaoshi"]).json()
    assert outcome["data"][0]["ok"] is False and outcome["data"][0]["error"]
    assert client.post(
        f"/api/subscriptions/{created['id']}/test", headers=headers["yaodian"]
    ).status_code in (
        403,
        404,
    )
    assert client.post(f"/api/subscriptions/{created['id']}/test").status_code == 401
    client.delete(f"/api/subscriptions/{created['id']}", headers=headers["chaoshi"])
    inactive = client.post(f"/api/subscriptions/{created['id']}/test", headers=headers["chaoshi"])
    assert inactive.status_code == 409
