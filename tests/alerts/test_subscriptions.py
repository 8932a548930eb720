"""Subscription matching, quiet hours and the digest slot: pure functions, checked case by case."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.subscriptions import (
    AlertFacts,
    ComplaintFacts,
    SubscriptionScope,
    alert_matches,
    complaint_matches,
    end_of_quiet_hours,
    first_send_time,
    next_digest_time,
    parse_quiet_hours,
)
from core.models import Association, Subscription


def _scope(**fields: object) -> SubscriptionScope:
    subscription = Subscription(
        name="s",
        industries=fields.get("industries", []),
        products=fields.get("products", []),
        categories=fields.get("categories", []),
        districts=fields.get("districts", []),
        min_severity=fields.get("min_severity", "low"),
    )
    association = Association(
        id=7,
        code="a",
        name="a",
        industries=fields.get("association_industries", ["supermarket"]),
        is_consumer_association=bool(fields.get("consumer", False)),
    )
    return SubscriptionScope.of(subscription, association)


def _alert(**fields: object) -> AlertFacts:
    values: dict[str, object] = {
        "industry": "supermarket",
        "product_id": 1,
        "category_id": 10,
        "district": "南岗区",
        "severity": "high",
        **fields,
    }
    return AlertFacts(**values)  # type: ignore[arg-type]


def test_trade_association_without_own_industries_is_narrowed_to_its_trade() -> None:
    scope = _scope()
    assert alert_matches(scope, _alert())
    assert not alert_matches(scope, _alert(industry="pharmacy"))
    assert not alert_matches(scope, _alert(industry=None))


def test_consumer_association_without_filters_sees_every_trade() -> None:
    scope = _scope(consumer=True, association_industries=[])
    assert alert_matches(scope, _alert(industry="pharmacy"))
    assert alert_matches(scope, _alert(industry=None))


def test_products_and_categories_are_alternatives() -> None:
    scope = _scope(products=[1], categories=[20])
    assert alert_matches(scope, _alert(product_id=1, category_id=10))
    assert alert_matches(scope, _alert(product_id=2, category_id=20))
    assert not alert_matches(scope, _alert(product_id=2, category_id=10))
    assert not alert_matches(scope, _alert(product_id=None, category_id=None))


def test_a_category_covers_its_sub_categories() -> None:
    vegetables = _scope(categories=[20])
    assert alert_matches(vegetables, _alert(product_id=2, category_id=21, parent_category_id=20))
    assert not alert_matches(vegetables, _alert(product_id=2, category_id=21, parent_category_id=30))
    leafy = _scope(categories=[21])
    assert alert_matches(leafy, _alert(product_id=2, category_id=21, parent_category_id=20))
    assert not alert_matches(leafy, _alert(product_id=3, category_id=22, parent_category_id=20))


@pytest.mark.parametrize(
    ("severity", "minimum", "expected"),
    [("low", "low", True), ("medium", "high", False), ("high", "high", True), ("critical", "high", True)],
)
def test_minimum_severity(severity: str, minimum: str, expected: bool) -> None:
    assert alert_matches(_scope(min_severity=minimum), _alert(severity=severity)) is expected


def test_districts_filter() -> None:
    scope = _scope(districts=["道里区"])
    assert alert_matches(scope, _alert(district="道里区"))
    assert not alert_matches(scope, _alert(district="南岗区"))
    assert not alert_matches(scope, _alert(district=None))


def test_complaints_reach_only_the_association_they_were_routed_to() -> None:
    scope = _scope()
    facts = ComplaintFacts(
        association_id=7, industry="supermarket", product_id=None, category_id=None, district="南岗区"
    )
    assert complaint_matches(scope, facts)
    assert not complaint_matches(
        scope, ComplaintFacts(8, "supermarket", product_id=None, category_id=None, district="南岗区")
    )


@pytest.mark.parametrize("text", ["", "22:00", "25:00-07:00", "22:00-22:00", "22-07", "22:00-07:00x"])
def test_quiet_hours_format_is_checked(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quiet_hours(text)


# China time is UTC+8: 22:00-07:00 local is 14:00-23:00 UTC.
@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (dt.datetime(2024, 5, 1, 13, 59), dt.datetime(2024, 5, 1, 13, 59)),  # 21:59 local: not quiet
        (dt.datetime(2024, 5, 1, 14, 0), dt.datetime(2024, 5, 1, 23, 0)),  # 22:00 local: until 07:00
        (dt.datetime(2024, 5, 1, 20, 30), dt.datetime(2024, 5, 1, 23, 0)),  # 04:30 local
        (dt.datetime(2024, 5, 1, 23, 0), dt.datetime(2024, 5, 1, 23, 0)),  # 07:00 local: over
    ],
)
def test_quiet_hours_across_midnight(utc: dt.datetime, expected: dt.datetime) -> None:
    assert end_of_quiet_hours("22:00-07:00", utc) == expected


def test_quiet_hours_within_a_day() -> None:
    # 12:00-14:00 local is 04:00-06:00 UTC
    assert end_of_quiet_hours("12:00-14:00", dt.datetime(2024, 5, 1, 5, 0)) == dt.datetime(2024, 5, 1, 6, 0)
    assert end_of_quiet_hours("12:00-14:00", dt.datetime(2024, 5, 1, 7, 0)) == dt.datetime(2024, 5, 1, 7, 0)


def test_digest_goes_out_at_eight_china_time() -> None:
    # 08:00 local is 00:00 UTC
    assert next_digest_time(dt.datetime(2024, 5, 1, 3, 0)) == dt.datetime(2024, 5, 2, 0, 0)
    assert next_digest_time(dt.datetime(2024, 4, 30, 23, 59)) == dt.datetime(2024, 5, 1, 0, 0)
    assert next_digest_time(dt.datetime(2024, 5, 1, 0, 0)) == dt.datetime(2024, 5, 2, 0, 0)


def test_digest_slot_inside_quiet_hours_waits_for_their_end() -> None:
    subscription = Subscription(daily_digest=True, quiet_hours="06:00-09:00")
    assert first_send_time(subscription, dt.datetime(2024, 5, 1, 3, 0)) == dt.datetime(2024, 5, 2, 1, 0)
