"""Inputs schemathesis and careless clients send: each is refused or accepted as the schema says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import session_factory
from tests.utils.alerts import staff_headers
from tests.utils.auth import make_association


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def consumer(db: Session, settings: Settings) -> dict[str, str]:
    return staff_headers(
        db, settings, "xiehui", "consumer_staff", make_association(db, "xx", [], consumer=True)
    )


@pytest.mark.parametrize("contact", [{}, [], {"phone": "13812345678"}, True])
def test_a_contact_that_is_not_text_is_refused_not_dropped(client: TestClient, contact: object) -> None:
    response = client.post("/api/complaints", json={"text": "超市鸡蛋多收钱了", "contact": contact})
    assert response.status_code == 422
    assert "contact" in str(response.json()["error"]["details"])


def test_blank_contact_is_no_contact(client: TestClient) -> None:
    assert (
        client.post("/api/complaints", json={"text": "超市鸡蛋多收钱了", "contact": "  "}).status_code == 201
    )


def test_an_empty_status_filter_is_no_filter(client: TestClient, consumer: dict[str, str]) -> None:
    assert client.get("/api/complaints", params={"status": ""}, headers=consumer).status_code == 200
    assert client.get("/api/complaints/search", params={"status": ""}, headers=consumer).status_code == 200


@pytest.mark.parametrize("path", ["/api/complaints", "/api/inbox", "/api/subscriptions"])
def test_an_association_filter_beyond_the_id_range_is_refused_by_the_schema(
    client: TestClient, consumer: dict[str, str], path: str
) -> None:
    """Found by schemathesis on PostgreSQL: -1979456980149 overflowed the 32-bit column in the query."""
    for value in ("-1979456980149", "0", str(2**31)):
        response = client.get(path, params={"association_id": value}, headers=consumer)
        assert response.status_code == 422, (path, value, response.text)
    assert client.get(path, params={"association_id": 1}, headers=consumer).status_code == 200


@pytest.mark.parametrize("field", ["merchant_id", "product_id"])
def test_alert_filters_beyond_the_id_range_are_refused_by_the_schema(
    client: TestClient, consumer: dict[str, str], field: str
) -> None:
    """Found by schemathesis on PostgreSQL: merchant_id=26286026024903040 overflowed the 32-bit column."""
    for value in ("26286026024903040", "0", str(2**31)):
        response = client.get("/api/alerts", params={field: value}, headers=consumer)
        assert response.status_code == 422, (field, value, response.text)
    assert client.get("/api/alerts", params={field: 1}, headers=consumer).status_code == 200
    schema = client.get("/openapi.json").json()
    parameters = schema["paths"]["/api/alerts"]["get"]["parameters"]
    declared = next(parameter for parameter in parameters if parameter["name"] == field)
    assert {"minimum": 1, "maximum": 2**31 - 1}.items() <= declared["schema"]["anyOf"][0].items()


@pytest.mark.parametrize("value", ["0", "20240101", "-1"])
def test_a_bare_number_is_not_a_date(client: TestClient, consumer: dict[str, str], value: str) -> None:
    for path in ("/api/complaints", "/api/complaints/search"):
        response = client.get(path, params={"created_to": value}, headers=consumer)
        assert response.status_code == 422, (path, response.text)
    ok = client.get("/api/complaints", params={"created_to": "2024-01-01"}, headers=consumer)
    assert ok.status_code == 200


def test_an_empty_basket_is_refused_by_the_schema(client: TestClient) -> None:
    response = client.get("/api/prices/index", params={"basket": ""})
    assert response.status_code == 422


def test_a_classification_correction_needs_one_field_and_says_so_in_the_schema(
    client: TestClient, consumer: dict[str, str]
) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ClassificationCorrection"]
    assert len(schema["anyOf"]) == 2
    filed = client.post("/api/complaints", json={"text": "超市鸡蛋多收钱了"}).json()
    response = client.patch(
        f"/api/complaints/{filed['id']}/classification",
        json={"nature": None, "industry": None},
        headers=consumer,
    )
    assert response.status_code == 422


def test_405_names_every_method_of_the_path(client: TestClient) -> None:
    response = client.put("/api/complaints")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
