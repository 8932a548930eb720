"""The outbox against the real databases and a real local webhook receiver."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from alerts import messages
from alerts.delivery import RetryPolicy, claim_due, deliver_due
from alerts.enqueue import enqueue_pending
from core.config import Settings
from core.db import session_factory
from core.models import Alert, Association, Complaint, Delivery, Merchant, Subscription, utcnow
from tests.alerts.receiver import Receiver
from tests.utils.alerts import make_alert, make_merchant, make_product, make_subscription
from tests.utils.auth import make_association

SECRET = "s3cret-超市协会"


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def supermarkets(session: Session) -> Association:
    """The trade association every test here delivers to."""
    return make_association(session, "chaoshi", ["supermarket"])


@pytest.fixture
def merchant(session: Session) -> Merchant:
    """A supermarket of that trade, the subject of the alerts."""
    return make_merchant(session, "大润发", "supermarket")


def _signed_webhook(
    session: Session, association: Association, receiver: Receiver, **options: Any
) -> Subscription:
    """A webhook subscription to the local receiver, signed with the secret the receiver checks."""
    fields: dict[str, Any] = {"channels": ["webhook"], **options}
    return make_subscription(session, association, webhook_url=receiver.url, webhook_secret=SECRET, **fields)


@pytest.fixture
def signed_webhook(session: Session, supermarkets: Association, receiver: Receiver) -> Subscription:
    return _signed_webhook(session, supermarkets, receiver)


@pytest.fixture
def unreachable_webhook(session: Session, supermarkets: Association) -> Subscription:
    """A webhook to a port nobody listens on: for the tests of claiming and fan-out, which send nothing."""
    return make_subscription(session, supermarkets, channels=["webhook"], webhook_url="http://127.0.0.1:9/")


def _queue_alert(session: Session, merchant: Merchant, **fields: Any) -> Alert:
    """An alert about ``merchant`` (no product), fanned out into the outbox."""
    alert = make_alert(session, merchant=merchant, product=None, **fields)
    enqueue_pending(session)
    return alert


def _in_threads(work: Callable[[], None], count: int) -> None:
    """Run ``work`` in ``count`` threads at once and wait for them all."""
    workers = [threading.Thread(target=work) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _deliveries(session: Session, *, inbox: bool = True) -> list[Delivery]:
    session.expire_all()
    query = select(Delivery).order_by(Delivery.id)
    if not inbox:
        query = query.where(Delivery.channel != "inbox")
    return list(session.scalars(query))


def test_enqueue_is_idempotent_and_scoped_to_the_trade(
    session: Session, supermarkets: Association, receiver: Receiver
) -> None:
    pharmacies = make_association(session, "yaodian", ["pharmacy"])
    _signed_webhook(session, supermarkets, receiver, channels=["inbox", "webhook"])
    make_subscription(session, pharmacies, channels=["inbox", "webhook"], webhook_url=receiver.url)
    eggs = make_product(session, "鸡蛋")
    alert = make_alert(session, merchant=make_merchant(session, "家乐福南岗店", "supermarket"), product=eggs)

    assert enqueue_pending(session) == 2
    assert enqueue_pending(session) == 0
    rows = _deliveries(session)
    assert {(row.channel, row.status, row.association_id) for row in rows} == {
        ("inbox", "sent", supermarkets.id),
        ("webhook", "pending", supermarkets.id),
    }
    webhook_row = next(row for row in rows if row.channel == "webhook")
    assert webhook_row.dedupe_key == f"alert:{alert.id}:sub:{webhook_row.subscription_id}:webhook"
    assert webhook_row.payload["evidence"]["reference"]["value"] == 3.2
    assert "series" not in webhook_row.payload["evidence"]


def test_an_alert_that_escalates_into_a_subscription_is_delivered_then(
    session: Session, supermarkets: Association, merchant: Merchant
) -> None:
    make_subscription(session, supermarkets, min_severity="high")
    alert = make_alert(session, merchant=merchant, product=None, severity="medium")
    assert enqueue_pending(session) == 0
    alert.severity, alert.updated_at = "critical", utcnow()
    session.commit()
    assert enqueue_pending(session) == 1


def test_dismissed_alerts_and_alerts_older_than_the_subscription_are_not_sent(
    session: Session, supermarkets: Association, merchant: Merchant
) -> None:
    make_alert(session, merchant=merchant, product=None, status="dismissed")
    make_alert(session, merchant=merchant, product=None)
    make_subscription(session, supermarkets, created_at=utcnow() + dt.timedelta(seconds=5))
    assert enqueue_pending(session) == 0


def test_routed_complaints_reach_the_association_inbox_masked(
    session: Session, supermarkets: Association
) -> None:
    complaint = Complaint(
        tracking_code="TS-TEST-0001",
        text="我叫张三，电话13812345678，在超市买鸡蛋被多收钱。",
        merchant_name="家乐福南岗店",
        industry="supermarket",
        association_id=supermarkets.id,
        district="南岗区",
        nature="价格",
    )
    session.add(complaint)
    session.commit()

    assert enqueue_pending(session) == 1
    (row,) = _deliveries(session)
    assert (row.channel, row.status, row.complaint_id) == ("inbox", "sent", complaint.id)
    assert "13812345678" not in row.payload["complaint"]["text"]
    assert "138****5678" in row.payload["complaint"]["text"]


@pytest.mark.usefixtures("signed_webhook")
def test_webhook_delivery_is_signed_and_sent_once(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
    merchant: Merchant,
) -> None:
    alert = make_alert(session, merchant=merchant, product=make_product(session, "猪肉"))
    enqueue_pending(session)

    stats = deliver_due(sessions, settings)
    assert (stats.claimed, stats.sent) == (1, 1)
    assert deliver_due(sessions, settings).claimed == 0
    (row,) = _deliveries(session, inbox=False)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    (document,) = receiver.documents.values()
    assert document["key"] == row.dedupe_key and document["alert"]["id"] == alert.id
    assert document["alert"]["merchant"] == "大润发" and document["evidence"]["current"] == 6.4
    assert receiver.rejected == []


def test_a_receiver_with_another_secret_or_a_skewed_clock_rejects(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    supermarkets: Association,
    merchant: Merchant,
) -> None:
    wrong_secret = Receiver("another-secret").start()
    skewed = Receiver(SECRET, clock_skew=3600).start()
    try:
        for receiver in (wrong_secret, skewed):
            _signed_webhook(session, supermarkets, receiver)
        _queue_alert(session, merchant)
        stats = deliver_due(sessions, settings)
    finally:
        wrong_secret.stop()
        skewed.stop()
    assert wrong_secret.rejected == ["bad signature"]
    assert skewed.rejected == ["stale or missing timestamp"]
    assert stats.dead == 2  # 401 is a refusal, not a hiccup
    assert {row.last_error for row in _deliveries(session, inbox=False)} == {"webhook answered HTTP 401"}


@pytest.mark.usefixtures("signed_webhook")
def test_failures_back_off_exponentially_with_jitter_and_a_cap_then_die(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
    merchant: Merchant,
) -> None:
    _queue_alert(session, merchant)
    receiver.answer_status = 503
    policy = RetryPolicy(base_seconds=10, cap_seconds=60, max_attempts=6)
    now = utcnow()
    delays = []
    for attempt in range(1, 6):
        stats = deliver_due(sessions, settings, now=now, retry=policy, rng=random.Random(attempt))
        assert stats.retrying == 1
        (row,) = _deliveries(session, inbox=False)
        assert (row.status, row.attempts, row.last_error) == (
            "retrying",
            attempt,
            "webhook answered HTTP 503",
        )
        delays.append((row.next_attempt_at - now).total_seconds())
        assert deliver_due(sessions, settings, now=now, retry=policy).claimed == 0  # not due yet
        now = row.next_attempt_at
    ceilings = [10, 20, 40, 60, 60]
    assert all(
        ceiling / 2 <= delay <= ceiling + 0.001 for delay, ceiling in zip(delays, ceilings, strict=True)
    )
    stats = deliver_due(sessions, settings, now=now, retry=policy)
    assert stats.dead == 1
    assert _deliveries(session, inbox=False)[0].status == "dead"


@pytest.mark.usefixtures("unreachable_webhook")
def test_a_lost_lease_is_reclaimed_and_the_stale_worker_cannot_overwrite(
    session: Session, sessions: sessionmaker[Session], merchant: Merchant
) -> None:
    _queue_alert(session, merchant)
    now, lease = utcnow(), dt.timedelta(seconds=60)
    (first,) = claim_due(sessions, now, batch=10, lease=lease)
    assert claim_due(sessions, now + dt.timedelta(seconds=59), batch=10, lease=lease) == []
    (second,) = claim_due(sessions, now + dt.timedelta(seconds=61), batch=10, lease=lease)
    assert (first.id, first.token, second.token) == (second.id, 1, 2)

    from alerts.delivery import _finish

    with sessions() as other:
        assert not _finish(other, first, status="sent")
        assert _finish(other, second, status="sent")
        other.commit()


@pytest.mark.usefixtures("unreachable_webhook")
def test_parallel_workers_claim_each_row_once(
    session: Session, sessions: sessionmaker[Session], merchant: Merchant
) -> None:
    for _ in range(60):
        make_alert(session, merchant=merchant, product=None)
    assert enqueue_pending(session) == 120  # a webhook message and an inbox item each
    now = utcnow()
    claimed: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        while found := claim_due(sessions, now, batch=5, lease=dt.timedelta(minutes=5)):
            with lock:
                claimed.extend(claim.id for claim in found)

    _in_threads(work, 4)
    assert len(claimed) == 60 and len(set(claimed)) == 60


def test_quiet_hours_hold_external_messages_but_not_the_inbox(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
    supermarkets: Association,
    merchant: Merchant,
) -> None:
    _signed_webhook(session, supermarkets, receiver, channels=["inbox", "webhook"], quiet_hours="22:00-07:00")
    make_alert(session, merchant=merchant, product=None)
    late_evening = dt.datetime(2024, 5, 1, 15, 0)  # 23:00 China time
    enqueue_pending(session, now=late_evening)
    inbox, hook = sorted(_deliveries(session), key=lambda row: row.channel)
    assert inbox.status == "sent" and hook.next_attempt_at == dt.datetime(2024, 5, 1, 23, 0)
    assert deliver_due(sessions, settings, now=dt.datetime(2024, 5, 1, 22, 59)).claimed == 0
    assert deliver_due(sessions, settings, now=dt.datetime(2024, 5, 1, 23, 0)).sent == 1


def test_daily_digest_sends_one_message_with_every_item(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
    supermarkets: Association,
    merchant: Merchant,
) -> None:
    _signed_webhook(session, supermarkets, receiver, daily_digest=True)
    alerts = [make_alert(session, merchant=merchant, product=None) for _ in range(3)]
    enqueue_pending(session, now=dt.datetime(2024, 5, 1, 3, 0))  # 11:00 China time
    assert deliver_due(sessions, settings, now=dt.datetime(2024, 5, 1, 23, 59)).claimed == 0
    stats = deliver_due(sessions, settings, now=dt.datetime(2024, 5, 2, 0, 0))
    assert (stats.claimed, stats.sent) == (3, 3)
    (document,) = receiver.documents.values()
    assert document["type"] == "digest"
    assert sorted(item["alert"]["id"] for item in document["items"]) == sorted(a.id for a in alerts)


def test_a_removed_subscription_stops_its_pending_messages(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
    signed_webhook: Subscription,
    merchant: Merchant,
) -> None:
    _queue_alert(session, merchant)
    signed_webhook.active = False
    session.commit()
    assert deliver_due(sessions, settings).dead == 1
    assert receiver.arrivals == {}
    assert _deliveries(session, inbox=False)[0].last_error == "subscription removed or inactive"


@pytest.mark.usefixtures("signed_webhook")
def test_one_call_drains_the_backlog_batch_after_batch(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
    merchant: Merchant,
) -> None:
    for _ in range(45):
        make_alert(session, merchant=merchant, product=None)
    enqueue_pending(session)
    stats = deliver_due(sessions, settings, batch=20)
    assert (stats.claimed, stats.sent) == (45, 45)
    assert len(receiver.documents) == 45
    assert deliver_due(sessions, settings, batch=20, limit=10).claimed == 0


def test_a_row_the_sender_cannot_render_is_retried_not_stranded(
    session: Session, sessions: sessionmaker[Session], settings: Settings, supermarkets: Association
) -> None:
    subscription = make_subscription(session, supermarkets, channels=["email"], email="jc@chaoshi.example.cn")
    session.add(  # e.g. written by an older version with another payload shape
        Delivery(
            dedupe_key="alert:legacy:email",
            association_id=supermarkets.id,
            subscription_id=subscription.id,
            channel="email",
            payload={"type": "alert"},
        )
    )
    session.commit()
    stats = deliver_due(sessions, settings)
    assert stats.retrying == 1
    (row,) = _deliveries(session, inbox=False)
    assert row.status == "retrying" and row.last_error == "unexpected KeyError: 'alert'"


@pytest.mark.usefixtures("unreachable_webhook")
def test_a_row_whose_sender_dies_every_time_is_retired(
    session: Session, sessions: sessionmaker[Session], merchant: Merchant
) -> None:
    _queue_alert(session, merchant)
    policy, lease = RetryPolicy(max_attempts=2, lease_seconds=60), dt.timedelta(seconds=60)
    now = utcnow()
    for _ in range(2):  # each claimant "dies" without recording an outcome
        assert len(claim_due(sessions, now, batch=10, lease=lease, retry=policy)) == 1
        now += dt.timedelta(seconds=61)
    assert claim_due(sessions, now, batch=10, lease=lease, retry=policy) == []
    (row,) = _deliveries(session, inbox=False)
    assert (row.status, row.attempts) == ("dead", 2)
    assert row.last_error == "no outcome recorded after 2 attempts"


@pytest.mark.usefixtures("unreachable_webhook")
def test_two_fan_outs_at_once_create_each_row_once(
    session: Session, sessions: sessionmaker[Session], merchant: Merchant
) -> None:
    for _ in range(40):
        make_alert(session, merchant=merchant, product=None)
    created: list[int] = []
    barrier = threading.Barrier(3)

    def fan_out() -> None:
        with sessions() as own:
            barrier.wait()
            created.append(enqueue_pending(own))

    _in_threads(fan_out, 3)
    assert sum(created) == 80 and len(_deliveries(session)) == 80


@pytest.mark.usefixtures("signed_webhook")
def test_an_alert_that_gets_worse_is_sent_again_once_per_level(
    session: Session,
    sessions: sessionmaker[Session],
    settings: Settings,
    receiver: Receiver,
    merchant: Merchant,
) -> None:
    alert = make_alert(session, merchant=merchant, product=None, severity="medium")
    assert enqueue_pending(session) == 2
    for severity, created in (("high", 2), ("high", 0), ("critical", 2), ("critical", 0)):
        alert.severity, alert.updated_at = severity, utcnow()
        session.commit()
        assert enqueue_pending(session) == created, severity
    deliver_due(sessions, settings)
    keys = sorted(receiver.documents)
    base = f"alert:{alert.id}:sub:"
    assert len(keys) == 3 and all(key.startswith(base) for key in keys)
    assert [key.rsplit(":", 1)[-1] for key in keys] == ["webhook", "critical", "high"]
    ups = {receiver.documents[key]["alert"]["severity"]: receiver.documents[key] for key in keys[1:]}
    assert ups["high"]["escalated_from"] == "medium" and ups["critical"]["escalated_from"] == "high"
    inbox = [row for row in _deliveries(session) if row.channel == "inbox"]
    assert [row.payload.get("escalated_from") for row in inbox] == [None, "medium", "high"]
    assert messages.subject(ups["critical"]) == "【公平市场】价格预警升级（高→紧急）：大润发"


@pytest.mark.usefixtures("unreachable_webhook")
def test_an_alert_first_sent_at_its_peak_is_not_escalated(session: Session, merchant: Merchant) -> None:
    make_alert(session, merchant=merchant, product=None, severity="critical")
    assert enqueue_pending(session) == 2
    assert enqueue_pending(session) == 0
