"""The outbox's sender: claim the ``deliveries`` rows that are due, send them, record the outcome.

A claim is a lease: the row goes to ``sending`` with ``next_attempt_at`` moved to the lease's end and
``attempts`` raised by one, and ``attempts`` is the fencing token every later update checks. A process
that dies mid-send leaves rows that another run reclaims when the lease runs out — at least once;
receivers drop repeats by the ``Idempotency-Key``, which is the row's ``dedupe_key``.

Row states: pending → sending → sent | retrying (→ sending …) | dead. ``alerts.enqueue`` writes the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, cast

from sqlalchemy import CursorResult, Select, String, case, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from alerts import messages
from alerts.channels import DeliveryError, Message, email, im, webhook
from alerts.channels.targets import UnsafeTarget, check_apprise_url, check_url
from alerts.subscriptions import end_of_quiet_hours
from core.backoff import backoff_seconds, with_equal_jitter
from core.clock import china_date
from core.config import Settings
from core.models import Delivery, Subscription, Watch, utcnow

log = logging.getLogger(__name__)

DUE_STATUSES = ("pending", "retrying", "sending")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with a cap and "equal jitter" (:mod:`core.backoff`, the crawler's rule too), a
    lease per claim, and a last attempt."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 10
    lease_seconds: float = 300.0

    def delay(self, attempts: int, rng: random.Random) -> dt.timedelta:
        ceiling = backoff_seconds(attempts, base=self.base_seconds, cap=self.cap_seconds)
        return dt.timedelta(seconds=with_equal_jitter(ceiling, rng))


DEFAULT_RETRY = RetryPolicy()


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount or 0


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
