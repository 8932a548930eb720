"""Which subscriptions an alert or a routed complaint falls into, and when a message may go out.

Matching is a pure function of plain facts (``AlertFacts``/``ComplaintFacts`` and ``SubscriptionScope``),
so it can be checked exhaustively without a database. An empty filter list means "any"; a trade
association's subscription without its own industries is narrowed to the association's industries,
so a trade association never hears about another trade's alerts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.clock import CHINA, from_china, in_china, naive_utc
from core.models import Association, Subscription

SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
DIGEST_HOUR = 8  # local time the daily digest goes out
_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class AlertFacts:
    industry: str | None
    product_id: int | None
    category_id: int | None
    district: str | None
    severity: str
    parent_category_id: int | None = None  # 蔬菜 for a good in 叶菜类: a subscription to either matches


@dataclass(frozen=True)
class ComplaintFacts:
    association_id: int | None
    industry: str | None
    product_id: int | None
    category_id: int | None
    district: str | None
    parent_category_id: int | None = None


@dataclass(frozen=True)
class SubscriptionScope:
    """What one subscription covers, with the association's industries already applied."""

    association_id: int
    industries: frozenset[str]
    products: frozenset[int]
    categories: frozenset[int]
    districts: frozenset[str]
    min_severity: str

    @classmethod
    def of(cls, subscription: Subscription, association: Association) -> SubscriptionScope:
        industries = set(subscription.industries or [])
        if not industries and not association.is_consumer_association:
            industries = set(association.industries or [])
            if not industries:
                industries = {""}  # a trade association without industries matches nothing by industry
        return cls(
            association_id=association.id,
            industries=frozenset(industries),
            products=frozenset(int(value) for value in subscription.products or []),
            categories=frozenset(int(value) for value in subscription.categories or []),
            districts=frozenset(subscription.districts or []),
            min_severity=subscription.min_severity,
        )


def _within(value: object, allowed: frozenset[object] | frozenset[str] | frozenset[int]) -> bool:
    return not allowed or value in allowed


def _goods_match(scope: SubscriptionScope, product_id: int | None, *category_ids: int | None) -> bool:
    """Goods filters are alternatives: a subscription to 猪肉 and to 粮油 wants either; a category covers
    its sub-categories (``category_ids`` are a good's category and its parent)."""
    if not scope.products and not scope.categories:
        return True
    return (product_id is not None and product_id in scope.products) or any(
        category_id is not None and category_id in scope.categories for category_id in category_ids
    )


def severity_at_least(severity: str, minimum: str) -> bool:
    if severity not in SEVERITIES:
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum if minimum in SEVERITIES else "low")


def alert_matches(scope: SubscriptionScope, alert: AlertFacts) -> bool:
    return (
        _within(alert.industry, scope.industries)
        and _goods_match(scope, alert.product_id, alert.category_id, alert.parent_category_id)
        and _within(alert.district, scope.districts)
        and severity_at_least(alert.severity, scope.min_severity)
    )


def complaint_matches(scope: SubscriptionScope, complaint: ComplaintFacts) -> bool:
    """A complaint reaches only the association it was routed to; complaints carry no severity."""
    return (
        complaint.association_id == scope.association_id
        and _within(complaint.industry, scope.industries)
        and _goods_match(scope, complaint.product_id, complaint.category_id, complaint.parent_category_id)
        and _within(complaint.district, scope.districts)
    )


def parse_quiet_hours(text: str) -> tuple[dt.time, dt.time]:
    """``"22:00-07:00"`` → (22:00, 07:00); raises ValueError on anything else."""
    match = _QUIET_HOURS.match(text.strip())
    if match is None:
        raise ValueError("免打扰时段格式应为 HH:MM-HH:MM，例如 22:00-07:00")
    start = dt.time(int(match[1]), int(match[2]))
    end = dt.time(int(match[3]), int(match[4]))
    if start == end:
        raise ValueError("免打扰时段的开始和结束不能相同")
    return start, end


def end_of_quiet_hours(quiet_hours: str | None, now: dt.datetime) -> dt.datetime:
    """``now`` (naive UTC) if it is outside the quiet hours (China time), else when they end."""
    if not quiet_hours:
        return now
    start, end = parse_quiet_hours(quiet_hours)
    local = in_china(now)
    clock = local.time()
    crosses_midnight = start > end
    inside = (clock >= start or clock < end) if crosses_midnight else (start <= clock < end)
    if not inside:
        return now
    end_day = local.date() + dt.timedelta(days=1) if crosses_midnight and clock >= start else local.date()
    return from_china(end_day, end)


def next_digest_time(now: dt.datetime) -> dt.datetime:
    """The next ``DIGEST_HOUR`` o'clock China time strictly after ``now`` (naive UTC)."""
    local = in_china(now)
    slot = dt.datetime.combine(local.date(), dt.time(DIGEST_HOUR), tzinfo=CHINA)
    if slot <= local:
        slot += dt.timedelta(days=1)
    return naive_utc(slot)


def first_send_time(subscription: Subscription, now: dt.datetime) -> dt.datetime:
    """When an external message for this subscription may first be sent: digest slot, then quiet hours."""
    moment = next_digest_time(now) if subscription.daily_digest else now
    return end_of_quiet_hours(subscription.quiet_hours, moment)
