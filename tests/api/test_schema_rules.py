"""Rules between fields are in the OpenAPI schema: the schema refuses exactly the bodies the API refuses.

Checked with jsonschema-rs (the validator schemathesis uses) on the published schema against what the
running API answers (422 or not), for bodies on both sides of each rule.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.utils.auth import login_headers, make_association, make_user

PASSWORD = "correct horse battery"
USER = {"username": "clerk", "password": PASSWORD}
SUBSCRIPTION = {"name": "价格预警", "association_id": 1}
# (schema name, request path, body); "{complaint}" is a newly filed complaint's id.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("UserCreate", "/api/users", {**USER, "role": "association_staff"}),
    ("UserCreate", "/api/users", {**USER, "role": "association_staff", "association": ""}),
    ("UserCreate", "/api/users", {**USER, "role": "association_staff", "association": "chaoshi"}),
    ("UserCreate", "/api/users", {**USER, "username": "clerk2", "role": "consumer_staff"}),
    ("TransitionRequest", "/api/complaints/{complaint}/transitions", {"to_status": "rejected"}),
    ("TransitionRequest", "/api/complaints/{complaint}/transitions", {"to_status": "rejected", "note": "  "}),
    (
        "TransitionRequest",
        "/api/complaints/{complaint}/transitions",
        {"to_status": "rejected", "note": "\u200b"},
    ),
    (
        "TransitionRequest",
        "/api/complaints/{complaint}/transitions",
        {"to_status": "rejected", "note": "重复投诉"},
    ),
    ("TransitionRequest", "/api/complaints/{complaint}/transitions", {"to_status": "accepted"}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search"}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "query": " \u3000"}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "query": "口罩"}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "filters": {"nature": ["价格"]}}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "filters": {"nature": [""]}}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "filters": {"amount_min": True}}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "filters": {"amount_min": 5}}),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "filters": {"colour": ["红"]}}),
    ("WatchCreate", "/api/watches", {"name": " ", "kind": "search", "query": "口罩"}),
    (
        "WatchCreate",
        "/api/watches",
        {"name": "口罩", "kind": "search", "query": "口罩", "channels": ["email"]},
    ),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "query": "口罩", "channels": ["im"]}),
    (
        "WatchCreate",
        "/api/watches",
        {"name": "口罩", "kind": "search", "query": "口罩", "channels": ["email"], "email": " a@b.cn\u3000"},
    ),
    ("WatchCreate", "/api/watches", {"name": "口罩", "kind": "search", "query": "口罩", "email": "a@b"}),
    (
        "WatchCreate",
        "/api/watches",
        {"name": "口罩", "kind": "search", "query": "口罩", "webhook_secret": " " * 15 + "x"},
    ),
    (
        "WatchCreate",
        "/api/watches",
        {"name": "口罩", "kind": "search", "query": "口罩", "webhook_secret": "x" * 16},
    ),
    ("SubscriptionCreate", "/api/subscriptions", {**SUBSCRIPTION, "name": "\u3000"}),
    ("SubscriptionCreate", "/api/subscriptions", {**SUBSCRIPTION, "channels": ["email"]}),
    (
        "SubscriptionCreate",
        "/api/subscriptions",
        {**SUBSCRIPTION, "channels": ["email"], "email": " a@b.cn "},
    ),
    ("SubscriptionCreate", "/api/subscriptions", {**SUBSCRIPTION, "email": "a b@c.cn"}),
    ("SubscriptionCreate", "/api/subscriptions", {**SUBSCRIPTION, "channels": ["webhook"]}),
    ("SubscriptionCreate", "/api/subscriptions", {**SUBSCRIPTION, "webhook_secret": "x" * 15 + " "}),
]


@pytest.mark.parametrize(("model", "path", "body"), CASES)
def test_the_schema_states_the_rules_between_fields(
    client: TestClient, session: Session, model: str, path: str, body: dict[str, Any]
) -> None:
    openapi = client.get("/openapi.json").json()
    schema = {**openapi["components"]["schemas"][model], "components": openapi["components"]}
    make_association(session, "chaoshi", ["supermarket"])
    make_user(session, "root", "admin")
    headers = login_headers(client, "root")
    filed = client.post("/api/complaints", json={"text": "超市鸡蛋标价8元一斤，结账时收了12元。"})
    url = path.format(complaint=filed.json()["id"])

    answer = client.post(url, json=body, headers=headers)

    assert answer.status_code != 500, answer.text
    assert jsonschema_rs.validator_for(schema).is_valid(body) == (answer.status_code != 422), answer.text
