"""The outbox's intake: fan alerts and routed complaints out to subscriptions as ``deliveries`` rows.

``enqueue_pending`` writes one row per (alert or complaint, subscriber, channel); the row's
``dedupe_key`` is unique, so running it again, or from two processes at once, adds nothing. An alert
that escalates to high or critical after it was sent gets one more row per level reached (key suffix
``:up:<severity>``), so subscribers hear that an episode got worse. Inbox rows are born ``sent``: the
row is the inbox item. ``alerts.delivery`` sends the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from sqlalchemy import String, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from alerts import messages
from alerts.channels import im
from alerts.subscriptions import (
    SEVERITIES,
    AlertFacts,
    ComplaintFacts,
    SubscriptionScope,
    alert_matches,
    complaint_matches,
    first_send_time,
)
from core.models import (
    Alert,
    Association,
    Category,
    Complaint,
    Delivery,
    Merchant,
    Product,
    Subscription,
    utcnow,
)

ALERT_STATUSES_TO_DELIVER = ("open", "acknowledged", "confirmed")
COMPLAINT_STATUSES_TO_DELIVER = ("received", "accepted", "mediating")
# An alert already sent that escalates to one of these is sent again, once per level reached.
ESCALATION_LEVELS = ("high", "critical")
_KEY_CHUNK = 500

PayloadFactory = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class _Subscriber:
    subscription: Subscription
    scope: SubscriptionScope


def _subscribers(session: Session) -> list[_Subscriber]:
    rows = session.execute(
        select(Subscription, Association)
        .join(Association, Association.id == Subscription.association_id)
        .where(Subscription.active.is_(True))
        .order_by(Subscription.id)
    ).all()
    return [
        _Subscriber(subscription, SubscriptionScope.of(subscription, association))
        for subscription, association in rows
    ]


def _external_rows(
    subscription: Subscription, prefix: str, payload: PayloadFactory, now: dt.datetime
) -> Iterable[dict[str, Any]]:
    send_at = first_send_time(subscription, now)
    common = {"subscription_id": subscription.id, "association_id": subscription.association_id}
    for channel in subscription.channels or []:
        if channel in ("webhook", "email"):
            yield {
                **common,
                "dedupe_key": f"{prefix}:sub:{subscription.id}:{channel}",
                "channel": channel,
                "payload": payload,
                "next_attempt_at": send_at,
            }
        elif channel == "im":
            for url in subscription.apprise_urls or []:
                target = im.url_fingerprint(url)
                yield {
                    **common,
                    "dedupe_key": f"{prefix}:sub:{subscription.id}:im:{target}",
                    "channel": "im",
                    "payload": payload,
                    "target": target,
                    "next_attempt_at": send_at,
                }


def _inbox_row(
    prefix: str, association_id: int, subscription_id: int | None, payload: PayloadFactory, now: dt.datetime
) -> dict[str, Any]:
    """One inbox item per association, however many of its subscriptions match."""
    return {
        "dedupe_key": f"{prefix}:assoc:{association_id}:inbox",
        "subscription_id": subscription_id,
        "association_id": association_id,
        "channel": "inbox",
        "payload": payload,
        "status": "sent",
        "sent_at": now,
        "next_attempt_at": now,
    }


def _alert_rows(session: Session, subscribers: list[_Subscriber], now: dt.datetime) -> list[dict[str, Any]]:
    if not subscribers:
        return []
    since = min(s.subscription.created_at for s in subscribers)
    alerts = session.execute(
        select(Alert, Product.category_id, Category.parent_id, Merchant.district)
        .outerjoin(Product, Product.id == Alert.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .outerjoin(Merchant, Merchant.id == Alert.merchant_id)
        .where(Alert.status.in_(ALERT_STATUSES_TO_DELIVER), Alert.updated_at >= since)
        .options(selectinload(Alert.product), selectinload(Alert.merchant))
        .order_by(Alert.id)
    ).all()
    rows: list[dict[str, Any]] = []
    for alert, category_id, parent_category_id, merchant_district in alerts:
        facts = AlertFacts(
            industry=alert.industry,
            product_id=alert.product_id,
            category_id=category_id,
            district=merchant_district or alert.region or None,
            severity=alert.severity,
            parent_category_id=parent_category_id,
        )
        matching = [
            s
            for s in subscribers
            if alert.updated_at >= s.subscription.created_at and alert_matches(s.scope, facts)
        ]
        if not matching:
            continue
        payload = cache(partial(messages.alert_payload, alert))
        prefix = f"alert:{alert.id}"
        inboxes: dict[int, int] = {}
        found: list[dict[str, Any]] = []
        for subscriber in matching:
            inboxes.setdefault(subscriber.scope.association_id, subscriber.subscription.id)
            found.extend(_external_rows(subscriber.subscription, prefix, payload, now))
        found.extend(_inbox_row(prefix, aid, sid, payload, now) for aid, sid in inboxes.items())
        if alert.severity in ESCALATION_LEVELS:
            found.extend(
                {
                    **row,
                    "dedupe_key": f"{row['dedupe_key']}:up:{alert.severity}",
                    "escalates": row["dedupe_key"],
                }
                for row in list(found)
            )
        rows.extend({**row, "alert_id": alert.id} for row in found)
    return rows


def _complaint_rows(
    session: Session, subscribers: list[_Subscriber], now: dt.datetime
) -> list[dict[str, Any]]:
    # A complaint needs a look if its inbox item is missing (found through the unique dedupe key) or
    # if a subscription with other channels already existed when it was filed.
    inbox_key = (
        "complaint:"
        + Complaint.id.cast(String)
        + ":assoc:"
        + Complaint.association_id.cast(String)
        + ":inbox"
    )
    has_inbox_item = exists().where(Delivery.dedupe_key == inbox_key)
    external = [
        s.subscription.created_at for s in subscribers if set(s.subscription.channels or []) - {"inbox"}
    ]
    needs_look = (
        ~has_inbox_item if not external else or_(~has_inbox_item, Complaint.created_at >= min(external))
    )
    complaints = session.execute(
        select(Complaint, Product.category_id, Category.parent_id)
        .outerjoin(Product, Product.id == Complaint.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(
            Complaint.association_id.is_not(None),
            Complaint.status.in_(COMPLAINT_STATUSES_TO_DELIVER),
            needs_look,
        )
        .order_by(Complaint.id)
    ).all()
    rows: list[dict[str, Any]] = []
    for complaint, category_id, parent_category_id in complaints:
        facts = ComplaintFacts(
            association_id=complaint.association_id,
            industry=complaint.industry,
            product_id=complaint.product_id,
            category_id=category_id,
            district=complaint.district,
            parent_category_id=parent_category_id,
        )
        payload = cache(partial(messages.complaint_payload, complaint))
        prefix = f"complaint:{complaint.id}"
        matching = [
            s
            for s in subscribers
            if complaint.created_at >= s.subscription.created_at and complaint_matches(s.scope, facts)
        ]
        first = matching[0].subscription.id if matching else None
        found = [_inbox_row(prefix, int(complaint.association_id or 0), first, payload, now)]
        for subscriber in matching:
            found.extend(_external_rows(subscriber.subscription, prefix, payload, now))
        rows.extend({**row, "complaint_id": complaint.id} for row in found)
    return rows


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    existing: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        existing.update(session.scalars(select(Delivery.dedupe_key).where(Delivery.dedupe_key.in_(chunk))))
    return existing


def _sent_severities(session: Session, bases: Sequence[str]) -> dict[str, str]:
    """The highest severity each alert message (by its first key) was already enqueued with."""
    severity = Delivery.payload["alert"]["severity"].as_string()
    keys = [f"{base}:up:{level}" for base in set(bases) for level in ESCALATION_LEVELS] + list(set(bases))
    found: dict[str, str] = {}
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        rows = session.execute(select(Delivery.dedupe_key, severity).where(Delivery.dedupe_key.in_(chunk)))
        for key, value in rows:
            base = key.split(":up:", 1)[0]
            if value and (base not in found or _more_severe(value, found[base])):
                found[base] = value
    return found


def _more_severe(severity: str, than: str) -> bool:
    return severity in SEVERITIES and (
        than not in SEVERITIES or SEVERITIES.index(severity) > SEVERITIES.index(than)
    )


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose key is new; a row another process inserted meanwhile is skipped, not an error.

    Payloads are built here, for new rows only: most candidates of a run already exist.
    """
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    existing = _existing_keys(session, [row["dedupe_key"] for row in rows])
    sent_at_severity = _sent_severities(session, [row["escalates"] for row in rows if "escalates" in row])
    inserted = 0
    for row in rows:
        if row["dedupe_key"] in existing:
            continue
        escalates = row.pop("escalates", None)
        payload: dict[str, Any] = row.pop("payload")()
        if escalates is not None:
            earlier = sent_at_severity.get(escalates)
            if earlier is None or not _more_severe(payload["alert"]["severity"], earlier):
                continue
            payload = {**payload, "escalated_from": earlier}
        existing.add(row["dedupe_key"])
        target = row.pop("target", None)
        row["payload"] = {**payload, "target": target} if target else payload
        statement = (
            insert(Delivery)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Delivery.id)
        )
        inserted += session.execute(statement).first() is not None
    return inserted


def insert_deliveries(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows (payloads as dicts) whose ``dedupe_key`` is new; returns how many were added."""
    return _insert_new(session, [{**row, "payload": partial(dict, row["payload"])} for row in rows])


def enqueue_pending(session: Session, *, now: dt.datetime | None = None) -> int:
    """Create the deliveries that are missing for current alerts and routed complaints; commits.

    A subscription receives alerts raised or updated after it was created, so a new subscription
    is not flooded with history. Returns the number of rows created.
    """
    now = now or utcnow()
    subscribers = _subscribers(session)
    rows = _alert_rows(session, subscribers, now) + _complaint_rows(session, subscribers, now)
    created = _insert_new(session, rows)
    session.commit()
    return created
