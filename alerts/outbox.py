"""The delivery outbox: fan alerts and routed complaints out to subscriptions, then send what is due.

``enqueue_pending`` writes one ``deliveries`` row per (alert or complaint, subscriber, channel); the
row's ``dedupe_key`` is unique, so running it again, or from two processes at once, adds nothing. An
alert that escalates to high or critical after it was sent gets one more row per level reached
(key suffix ``:up:<severity>``), so subscribers hear that an episode got worse.
``deliver_due`` claims due rows, sends them and records the outcome. A claim is a lease: the row goes
to ``sending`` with ``next_attempt_at`` moved to the lease's end and ``attempts`` raised by one, and
``attempts`` is the fencing token every later update checks. A process that dies mid-send leaves rows
that another run reclaims when the lease runs out — at least once; receivers drop repeats by the
``Idempotency-Key``, which is the row's ``dedupe_key``.

Row states: pending → sending → sent | retrying (→ sending …) | dead. Inbox rows are born ``sent``:
the row is the inbox item.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from itertools import groupby
from typing import Any, cast

from sqlalchemy import CursorResult, Select, String, case, exists, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload, sessionmaker

from alerts import messages
from alerts.channels import DeliveryError, Message, email, im, webhook
from alerts.channels.targets import UnsafeTarget, check_apprise_url, check_url
from alerts.subscriptions import (
    SEVERITIES,
    AlertFacts,
    ComplaintFacts,
    SubscriptionScope,
    alert_matches,
    complaint_matches,
    end_of_quiet_hours,
    first_send_time,
)
from core.clock import china_date
from core.config import Settings
from core.models import (
    Alert,
    Association,
    Category,
    Complaint,
    Delivery,
    Merchant,
    Product,
    Subscription,
    Watch,
    utcnow,
)

log = logging.getLogger(__name__)

ALERT_STATUSES_TO_DELIVER = ("open", "acknowledged", "confirmed")
COMPLAINT_STATUSES_TO_DELIVER = ("received", "accepted", "mediating")
DUE_STATUSES = ("pending", "retrying", "sending")
# An alert already sent that escalates to one of these is sent again, once per level reached.
ESCALATION_LEVELS = ("high", "critical")
_KEY_CHUNK = 500

PayloadFactory = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with a cap and "equal jitter", a lease per claim, and a last attempt."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 10
    lease_seconds: float = 300.0

    def delay(self, attempts: int, rng: random.Random) -> dt.timedelta:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return dt.timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


DEFAULT_RETRY = RetryPolicy()


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


# --- fan-out ---------------------------------------------------------------------------------------


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


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount or 0


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


# --- delivery --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class _Claim:
    id: int
    token: int  # ``attempts`` after the claim


def _due(now: dt.datetime, batch: int, dialect: str) -> Select[int]:
    query = (
        select(Delivery.id)
        .where(
            Delivery.status.in_(DUE_STATUSES),
            Delivery.channel != "inbox",
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(batch)
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


def claim_due(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    *,
    batch: int,
    lease: dt.timedelta,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> list[_Claim]:
    """Lease up to ``batch`` due rows to this process, in one UPDATE … RETURNING.

    On PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so parallel workers take
    different rows; on SQLite the statement holds the write lock from pick to update. A row whose
    lease ran out after its last attempt (its sender died every time) is retired as dead instead.
    """
    exhausted = Delivery.attempts >= retry.max_attempts
    with sessions() as session, session.begin():
        due = _due(now, batch, session.get_bind().dialect.name).scalar_subquery()
        rows = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(due))
            .values(
                status=case((exhausted, "dead"), else_="sending"),
                attempts=case((exhausted, Delivery.attempts), else_=Delivery.attempts + 1),
                next_attempt_at=case((exhausted, Delivery.next_attempt_at), else_=now + lease),
                last_error=case(
                    (
                        exhausted,
                        "no outcome recorded after " + Delivery.attempts.cast(String) + " attempts",
                    ),
                    else_=Delivery.last_error,
                ),
            )
            .returning(Delivery.id, Delivery.attempts, Delivery.status)
        ).all()
    return sorted(_Claim(row_id, attempts) for row_id, attempts, state in rows if state == "sending")


def _finish(session: Session, claim: _Claim, **values: Any) -> bool:
    """Record an outcome unless the lease was lost to another worker meanwhile."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == claim.id, Delivery.attempts == claim.token, Delivery.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _document(delivery: Delivery) -> dict[str, Any]:
    payload = {key: value for key, value in messages.masked(delivery.payload).items() if key != "target"}
    return {"key": delivery.dedupe_key, "delivery_id": delivery.id, **payload}


def _message(deliveries: list[Delivery], now: dt.datetime) -> Message:
    if len(deliveries) == 1:
        delivery = deliveries[0]
        payload = messages.masked(delivery.payload)
        return Message(
            key=delivery.dedupe_key,
            subject=messages.subject(payload),
            body=messages.body(payload),
            document=_document(delivery),
        )
    keys = sorted(delivery.dedupe_key for delivery in deliveries)
    payloads = [messages.masked(delivery.payload) for delivery in deliveries]
    day = china_date(now)
    return Message(
        key="digest:" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32],
        subject=messages.digest_subject(payloads, day),
        body=messages.digest_body(payloads),
        document={"type": "digest", "date": day.isoformat(), "items": [_document(d) for d in deliveries]},
    )


def _refuse_internal(check: Callable[..., None], url: str, settings: Settings) -> None:
    """Re-check the target before each send: a name may resolve to an internal address by now."""
    try:
        check(url, settings.delivery_allowed_hosts)
    except UnsafeTarget as exc:
        raise DeliveryError(f"target refused: {exc}", permanent=True) from exc


Recipient = Subscription | Watch
"""Who a row goes to: an association's subscription or a staff member's watch (same channel fields)."""


def _send(
    channel: str, subscription: Recipient | None, target: str | None, message: Message, settings: Settings
) -> None:
    if subscription is None or not subscription.active:
        raise DeliveryError("subscription removed or inactive", permanent=True)
    if channel not in (subscription.channels or []):
        raise DeliveryError(f"channel {channel} no longer in the subscription", permanent=True)
    if channel == "webhook":
        if not subscription.webhook_url or not subscription.webhook_secret:
            raise DeliveryError("subscription has no webhook URL or secret", permanent=True)
        _refuse_internal(check_url, subscription.webhook_url, settings)
        webhook.send(subscription.webhook_url, subscription.webhook_secret, message)
    elif channel == "email":
        if not subscription.email:
            raise DeliveryError("subscription has no e-mail address", permanent=True)
        email.send(settings, subscription.email, message)
    elif channel == "im":
        url = next((u for u in subscription.apprise_urls or [] if im.url_fingerprint(u) == target), None)
        if url is None:
            raise DeliveryError("IM URL removed from the subscription", permanent=True)
        _refuse_internal(check_apprise_url, url, settings)
        im.send(url, message)
    else:
        raise DeliveryError(f"unknown channel {channel}", permanent=True)


@dataclass(frozen=True)
class DeliveryCheck:
    channel: str
    target: str
    error: str | None


def send_test_message(
    subscription: Subscription, settings: Settings, now: dt.datetime
) -> list[DeliveryCheck]:
    """Send a marked test message now on each external channel of the subscription and say how it went.

    Nothing is queued and nothing is retried: staff see at once whether their receiver is reachable.
    """
    day = china_date(now).isoformat()
    message = Message(
        key=f"test:{subscription.id}:{now.isoformat(timespec='seconds')}",
        subject=f"【公平市场】测试消息：订阅“{subscription.name}”",
        body=f"这是一条测试消息（{day}），用来确认本订阅的接收渠道可用，无需处理。",
        document={"type": "test", "subscription_id": subscription.id, "date": day},
    )
    targets: list[tuple[str, str | None, str]] = []
    for channel in subscription.channels or []:
        if channel == "webhook":
            targets.append((channel, None, subscription.webhook_url or ""))
        elif channel == "email":
            targets.append((channel, None, subscription.email or ""))
        elif channel == "im":
            targets.extend(
                (channel, im.url_fingerprint(url), im.redact(url)) for url in subscription.apprise_urls or []
            )
    outcomes = []
    for channel, fingerprint, shown in targets:
        try:
            _send(channel, subscription, fingerprint, message, settings)
            outcomes.append(DeliveryCheck(channel, shown, None))
        except DeliveryError as error:
            outcomes.append(DeliveryCheck(channel, shown, str(error)))
    return outcomes


def deliver_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    batch: int = 100,
    limit: int = 2000,
    rng: random.Random | None = None,
) -> DeliveryStats:
    """Send what is due, batch after batch (up to ``limit`` rows): mark each sent, retrying or dead."""
    now = now or utcnow()
    rng = rng or random.Random()
    stats = DeliveryStats()
    lease = dt.timedelta(seconds=retry.lease_seconds)
    while stats.claimed < limit:
        claims = claim_due(
            session_factory, now, batch=min(batch, limit - stats.claimed), lease=lease, retry=retry
        )
        if not claims:
            break
        stats.claimed += len(claims)
        _deliver_claims(session_factory, settings, claims, now, retry, rng, stats)
    return stats


def _deliver_claims(
    session_factory: sessionmaker[Session],
    settings: Settings,
    claims: list[_Claim],
    now: dt.datetime,
    retry: RetryPolicy,
    rng: random.Random,
    stats: DeliveryStats,
) -> None:
    tokens = {claim.id: claim for claim in claims}
    with session_factory() as session:
        deliveries = session.scalars(
            select(Delivery).where(Delivery.id.in_(tokens)).order_by(Delivery.id)
        ).all()
        subscriptions = {
            s.id: s
            for s in session.scalars(
                select(Subscription).where(Subscription.id.in_({d.subscription_id for d in deliveries}))
            )
        }
        watch_ids = {d.watch_id for d in deliveries if d.watch_id is not None}
        watches = (
            {w.id: w for w in session.scalars(select(Watch).where(Watch.id.in_(watch_ids)))}
            if watch_ids
            else {}
        )
        session.expunge_all()  # keep what was read: sends happen outside any transaction
        session.rollback()
        postgres = session.get_bind().dialect.name == "postgresql"

        def recipient_of(delivery: Delivery) -> Recipient | None:
            if delivery.watch_id is not None:
                return watches.get(delivery.watch_id)
            return subscriptions.get(delivery.subscription_id or 0)

        def group_of(delivery: Delivery) -> tuple[Any, ...]:
            """Digest subscriptions and watches get one message per channel and bot for what is due
            together; everything else goes alone."""
            recipient = recipient_of(delivery)
            batched = isinstance(recipient, Watch) or (
                isinstance(recipient, Subscription) and recipient.daily_digest
            )
            return (
                delivery.watch_id or 0,
                delivery.subscription_id or 0,
                delivery.channel,
                delivery.payload.get("target") or "",
                0 if batched else delivery.id,
            )

        for _, grouped in groupby(sorted(deliveries, key=group_of), key=group_of):
            group = list(grouped)
            first = group[0]
            subscription = recipient_of(first)
            if postgres:
                # An outcome lost to a database crash only means one more send, which receivers drop;
                # not waiting for the WAL flush on each of them makes delivery several times faster.
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            try:
                _send(
                    first.channel, subscription, first.payload.get("target"), _message(group, now), settings
                )
            except DeliveryError as exc:
                _record_failure(session, group, tokens, exc, subscription, now, retry, rng, stats)
            except Exception as exc:  # a sender bug must not strand the rows it held
                log.exception("unexpected error delivering %s", [d.id for d in group])
                failure = DeliveryError(f"unexpected {type(exc).__name__}: {exc}")
                _record_failure(session, group, tokens, failure, subscription, now, retry, rng, stats)
            else:
                for delivery in group:
                    if _finish(
                        session, tokens[delivery.id], status="sent", sent_at=utcnow(), last_error=None
                    ):
                        stats.sent += 1
            session.commit()


def _record_failure(
    session: Session,
    group: list[Delivery],
    tokens: dict[int, _Claim],
    error: DeliveryError,
    subscription: Recipient | None,
    now: dt.datetime,
    retry: RetryPolicy,
    rng: random.Random,
    stats: DeliveryStats,
) -> None:
    stats.errors.append(str(error))
    for delivery in group:
        claim = tokens[delivery.id]
        if error.permanent or claim.token >= retry.max_attempts:
            if _finish(session, claim, status="dead", last_error=str(error)[:2000]):
                stats.dead += 1
            continue
        next_at = now + retry.delay(claim.token, rng)
        if subscription is not None:
            next_at = end_of_quiet_hours(subscription.quiet_hours, next_at)
        if _finish(session, claim, status="retrying", next_attempt_at=next_at, last_error=str(error)[:2000]):
            stats.retrying += 1
