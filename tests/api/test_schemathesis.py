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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, CheckFunction, is_check_class, load_all_checks
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from api.routes.prices import MAX_WINDOW_DAYS
from core.config import Settings
from core.models import Alert
from tests.utils.auth import login_headers, make_association, make_user

EXAMPLES_PER_OPERATION = 12

load_all_checks()
# Every registered check function (classes would be run-level checks; none are registered today).
ALL_CHECKS: list[CheckFunction] = [check for check in CHECKS.get_all() if not is_check_class(check)]


def _always(_case: schemathesis.Case, _caller: str) -> bool:
    return True


def _past_the_first_hits(case: schemathesis.Case, _caller: str) -> bool:
    query = case.query or {}
    page, size = query.get("page", 1), query.get("size", 20)
    return isinstance(page, int) and isinstance(size, int) and page * size > 10_000


def _basket_and_category(case: schemathesis.Case, _caller: str) -> bool:
    query = case.query or {}
    return query.get("basket") is not None and query.get("category") is not None


def _date(case: schemathesis.Case, name: str) -> dt.date | None:
    value = (case.query or {}).get(name)
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _since_after_until(case: schemathesis.Case, _caller: str) -> bool:
    since, until = _date(case, "since"), _date(case, "until")
    return since is not None and until is not None and since > until


def _outside_a_price_window(case: schemathesis.Case, _caller: str) -> bool:
    """from after to, or more than MAX_WINDOW_DAYS from ``from`` to ``to`` (else to today: no prices)."""
    start, end = _date(case, "from"), _date(case, "to")
    if start is None:
        return False
    end = end or max(dt.date.today(), start)
    return start > end or (end - start).days + 1 > MAX_WINDOW_DAYS


def _watch_beyond_the_schema(case: schemathesis.Case, _caller: str) -> bool:
    """A watch of a stored thing, or one with delivery targets or quiet hours; saved searches are not."""
    body = case.body if isinstance(case.body, dict) else {}
    return (
        body.get("kind") != "search"
        or body.get("webhook_url") is not None
        or bool(body.get("apprise_urls"))
        or body.get("quiet_hours") is not None
    )


def _subscription_beyond_the_schema(case: schemathesis.Case, caller: str) -> bool:
    """Anything but an association's own subscription to all its industries, delivered without targets."""
    body = case.body if isinstance(case.body, dict) else {}
    return (
        caller != "association_staff"
        or body.get("association_id") is not None
        or any(body.get(name) for name in ("industries", "products", "categories", "apprise_urls"))
        or body.get("webhook_url") is not None
        or body.get("quiet_hours") is not None
    )


@dataclass(frozen=True)
class Exemption:
    """A rule no OpenAPI schema can state, and which generated requests it rightly refuses (a 422 or 400
    naming the rule); ``positive_data_acceptance`` is skipped for those requests only."""

    reason: str
    applies: Callable[[schemathesis.Case, str], bool] = _always


# Every other rule is in the schema (patterns for visible text, if/then and anyOf between fields), and
# every other check runs on these operations too.
RULES_BEYOND_THE_SCHEMA = {
    "GET /api/complaints/search": Exemption(
        "page × size stays within the first 10,000 hits (a product of two parameters)", _past_the_first_hits
    ),
    "GET /api/complaints/search/export": Exemption(
        "page × size stays within the first 10,000 hits (a product of two parameters)", _past_the_first_hits
    ),
    "GET /api/prices/index": Exemption(
        "basket and category exclude each other (query parameters have no oneOf); from ≤ to, and at"
        " most MAX_WINDOW_DAYS apart",
        lambda case, caller: _basket_and_category(case, caller) or _outside_a_price_window(case, caller),
    ),
    "GET /api/prices/series": Exemption(
        "from ≤ to, and at most MAX_WINDOW_DAYS apart", _outside_a_price_window
    ),
    "GET /api/alerts": Exemption("since ≤ until (an order between two parameters)", _since_after_until),
    "POST /api/subscriptions": Exemption(
        "depends on the caller, the database and DNS: the consumer association's staff and admins name an"
        " existing association_id, industries stay inside that association's trade, products and"
        " categories exist, delivery targets resolve outside the platform's network (and are supported"
        " URLs); quiet hours start and end apart",
        _subscription_beyond_the_schema,
    ),
    "PATCH /api/subscriptions/{subscription_id}": Exemption(
        "the stored subscription merged with the change is validated as a whole (channels need"
        " addresses that may be stored, not sent), and by the same database rules as POST"
    ),
    "POST /api/watches": Exemption(
        "depends on the database and DNS: the merchant, good or category watched exists, delivery"
        " targets resolve outside the platform's network (and a webhook or IM address is a supported URL);"
        " quiet hours start and end apart",
        _watch_beyond_the_schema,
    ),
    "POST /api/price-follows/confirm": Exemption("the token carries the platform's signature (else a 400)"),
    "POST /api/price-follows/unsubscribe": Exemption(
        "the token carries the platform's signature (else a 400)"
    ),
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
        exemption = RULES_BEYOND_THE_SCHEMA.get(operation.label)
        for caller, caller_headers in headers.items():
            excluded: list[CheckFunction] = (
                [positive_data_acceptance] if exemption and exemption.applies(case, caller) else []
            )
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
