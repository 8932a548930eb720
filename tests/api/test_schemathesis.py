"""Property-based API check: Schemathesis drives every operation of the live OpenAPI schema.

Each operation gets generated requests as the public, as a trade association's staff, as the consumer
association's staff and as an administrator, against a real app on a seeded database: no 5xx;
declared status, content type, headers and body schema (errors included:
``api.errors.ERROR_RESPONSES``); a 405 names every method of the path in ``Allow``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from api.main import create_app
from core.config import Settings
from core.models import Alert
from tests.utils.auth import login_headers, make_association, make_user

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    allow_header_conformance,
]

EVIDENCE = {
    "rule": {"title": "紧急状态期间涨价", "citation": "CA PC §396"},
    "reference": {"value": 3.2, "window": {"from": "2026-01-14", "to": "2026-01-20"}},
    "current": 5.6,
    "change": 0.75,
    "threshold": 0.1,
    "unit": "元/500g",
}


@pytest.fixture
def seeded_app(settings: Settings) -> Iterator[tuple[FastAPI, dict[str, dict[str, str]]]]:
    """The app on a database with a trade association, its staff, an admin, complaints and an alert."""
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 0}))
    with TestClient(app) as client:
        session = app.state.sessions()
        supermarkets = make_association(session, "chaoshi", ["supermarket"])
        make_user(session, "root", "admin")
        make_user(session, "chaoshi", "association_staff", association=supermarkets)
        consumer = make_association(session, "xiaoxie", [], consumer=True)
        make_user(session, "xiehui", "consumer_staff", association=consumer)
        session.add(
            Alert(
                episode_key="seed-episode",
                rule_id="emergency_rise",
                kind="price_rise",
                industry="supermarket",
                start_date=dt.date(2026, 1, 21),
                end_date=dt.date(2026, 1, 23),
                severity="high",
                evidence=EVIDENCE,
            )
        )
        session.commit()
        session.close()
        client.post("/api/complaints", json={"text": "超市鸡蛋标价8元一斤，结账时收了12元，多收钱。"})
        headers = {
            "public": {},
            "association_staff": login_headers(client, "chaoshi"),
            "consumer_staff": login_headers(client, "xiehui"),
            "admin": login_headers(client, "root"),
        }
        yield app, headers


def _operation_failure(
    operation: schemathesis.APIOperation, headers: dict[str, dict[str, str]]
) -> str | None:
    """Schemathesis' report of what went wrong with one operation, or None when all went right."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: schemathesis.Case) -> None:
        for caller_headers in headers.values():
            case.call_and_validate(headers=caller_headers, checks=CHECKS)

    try:
        exercise()
    except (AssertionError, BaseExceptionGroup) as failure:  # one failure, or a group per operation
        return str(failure)
    return None


@pytest.mark.slow
def test_every_operation_answers_as_documented(
    seeded_app: tuple[FastAPI, dict[str, dict[str, str]]],
) -> None:
    app, headers = seeded_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10

    failures = {op.label: failure for op in operations if (failure := _operation_failure(op, headers))}

    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
