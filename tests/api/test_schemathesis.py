"""Property-based API check: Schemathesis drives every operation of the live OpenAPI schema.

Each operation gets generated requests as the public, as a trade association's staff, as the consumer
association's staff and as an administrator, against a real app on a seeded database, with every
check schemathesis has: no 5xx; declared status, content type, headers and body schema (errors
included: ``api.errors.ERROR_RESPONSES``); schema-valid data accepted and invalid data refused; a 405
names every method of the path in ``Allow``; login enforced where the schema requires it (optional
where it says ``{}``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, CheckFunction, is_check_class, load_all_checks
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from core.config import Settings
from core.models import Alert
from tests.utils.auth import login_headers, make_association, make_user

EXAMPLES_PER_OPERATION = 12

load_all_checks()
# Every registered check function (classes would be run-level checks; none are registered today).
ALL_CHECKS: list[CheckFunction] = [check for check in CHECKS.get_all() if not is_check_class(check)]

# Rules that an OpenAPI schema cannot state (across several fields, across the caller and the body, or
# "at least one visible character", a Unicode category no JSON Schema pattern can name): these
# operations rightly refuse some schema-valid requests with a 422 naming the rule. Every other check
# still runs on them.
RULES_BEYOND_THE_SCHEMA = {
    "POST /api/complaints": "text fields need a visible character",
    "POST /api/users": "association staff need an association_id",
    "POST /api/subscriptions": "an administrator names the association_id",
    "PATCH /api/subscriptions/{subscription_id}": "the merged subscription is validated as a whole",
    "POST /api/watches": "a saved search needs a query or a filter",
    "POST /api/complaints/{complaint_id}/transitions": "a note needs a visible character",
    "GET /api/prices/index": "one of basket or category (query parameters have no oneOf)",
    "GET /api/complaints/search": "page × size stays within the first 10,000 hits",
    "GET /api/complaints/search/export": "page × size stays within the first 10,000 hits",
    "POST /api/price-follows/confirm": "the token carries the platform's signature (else a 400)",
    "POST /api/price-follows/unsubscribe": "the token carries the platform's signature (else a 400)",
}

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
        excluded: list[CheckFunction] = (
            [positive_data_acceptance] if operation.label in RULES_BEYOND_THE_SCHEMA else []
        )
        for caller_headers in headers.values():
            case.call_and_validate(headers=caller_headers, checks=ALL_CHECKS, excluded_checks=excluded)

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
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) > 10
    assert set(RULES_BEYOND_THE_SCHEMA) <= {op.label for op in operations}

    failures = {op.label: failure for op in operations if (failure := _operation_failure(op, headers))}

    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
