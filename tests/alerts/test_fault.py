"""Receiver down, delivering process SIGKILLed mid-send and restarted, receiver back: nothing lost,
every key accepted exactly once by a receiver that drops repeats."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session

from core.db import session_factory
from core.models import Delivery
from tests.alerts.receiver import Receiver
from tests.utils.alerts import make_alert, make_merchant, make_subscription
from tests.utils.auth import make_association
from tests.utils.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-test-secret"
ALERTS = 30


def _worker(db_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.delivery_worker", db_url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


class SlowReceiver(Receiver):
    """Takes the message, then answers late: a worker killed meanwhile never learns it was delivered."""

    delay = 0.0

    def handle(self, path: str, headers: object, body: bytes) -> int:
        status = super().handle(path, headers, body)
        time.sleep(self.delay)
        return status


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_outage_and_a_killed_worker_lose_nothing_and_duplicate_nothing(
    engine: Engine, db_url: str, processes: list[subprocess.Popen[bytes]]
) -> None:
    from alerts.enqueue import enqueue_pending

    receiver = SlowReceiver(SECRET)  # not started: the receiver is down
    sessions = session_factory(engine)
    with sessions() as session:
        supermarkets = make_association(session, "chaoshi", ["supermarket"])
        make_subscription(
            session, supermarkets, channels=["webhook"], webhook_url=receiver.url, webhook_secret=SECRET
        )
        merchant = make_merchant(session, "家乐福南岗店", "supermarket")
        for _ in range(ALERTS):
            make_alert(session, merchant=merchant, product=None)
        enqueue_pending(session)
        expected = set(session.scalars(select(Delivery.dedupe_key).where(Delivery.channel == "webhook")))
    assert len(expected) == ALERTS

    def count(session: Session, *conditions: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(Delivery).where(Delivery.channel == "webhook", *conditions)
        return int(session.scalar(query) or 0)

    def webhook_rows(*conditions: ColumnElement[bool]) -> int:
        with sessions() as session:
            return count(session, *conditions)

    processes.append(_worker(db_url))
    wait_until(
        lambda: webhook_rows(Delivery.attempts >= 2) == ALERTS, "every row to fail twice while down", 30
    )
    assert webhook_rows(Delivery.status == "sent") == 0

    receiver.delay = 0.3
    receiver.start()
    try:
        wait_until(lambda: sum(receiver.arrivals.values()) >= 5, "the receiver to take some messages", 30)
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
        in_flight = webhook_rows(Delivery.status == "sending")
        assert in_flight > 0  # the dead worker left claimed rows behind

        receiver.delay = 0.0
        processes.append(_worker(db_url))
        wait_until(lambda: webhook_rows(Delivery.status == "sent") == ALERTS, "every row to be sent", 60)
    finally:
        receiver.stop()

    assert set(receiver.documents) == expected
    assert all(receiver.arrivals[key] >= 1 for key in expected)
    assert receiver.rejected == []
    assert webhook_rows(Delivery.status.in_(("dead", "retrying", "pending", "sending"))) == 0
    repeats = sum(receiver.arrivals.values()) - ALERTS
    assert repeats <= in_flight  # only what the killed worker had in flight came twice
