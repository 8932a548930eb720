"""Watches: a saved search delivers each new matching complaint once (webhook + e-mail), across a
restart of the delivering process; scoping, merchant watches on alerts, validation."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from alerts.watches import enqueue_watch_matches
from core.config import Settings
from core.db import session_factory
from core.models import Complaint, Delivery, Watch
from search.service import get_search_backend
from tests.alerts.receiver import Receiver
from tests.alerts.watch_worker import cycles_path, finished_cycles
from tests.utils.alerts import make_alert, make_merchant, make_product, staff_headers
from tests.utils.auth import make_association
from tests.utils.mail import Mailbox, serving
from tests.utils.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SECRET = "watch-test-secret-0123456789"
CODE = re.compile(r"TS-[0-9A-Z]{10}")


class TrackingMailbox(Mailbox):
    def tracking_codes(self) -> Counter[str]:
        codes: Counter[str] = Counter()
        for message in self.messages:
            body = message.get_body(preferencelist=("plain",))
            codes.update(set(CODE.findall(body.get_content() if body else "")))
        return codes


def _wait_for_more_cycles(data_dir: Path, cycles: int = 3) -> None:
    """Let the worker finish ``cycles`` more passes, so a repeat it would send has had its chance to."""
    target = finished_cycles(data_dir) + cycles
    wait_until(lambda: finished_cycles(data_dir) >= target, f"{cycles} more delivery passes", 30)


def _webhook_codes(receiver: Receiver) -> Counter[str]:
    """Tracking codes received, counting every arrival (a repeat on the wire would count twice)."""
    codes: Counter[str] = Counter()
    for key, document in receiver.documents.items():
        items = document["items"] if document.get("type") == "digest" else [document]
        for item in items:
            codes[item["complaint"]["tracking_code"]] += receiver.arrivals[key]
    return codes


@pytest.fixture
def mailbox() -> Iterator[tuple[TrackingMailbox, int]]:
    with serving(TrackingMailbox()) as served:
        yield served


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _file(client: TestClient, text: str) -> str:
    response = client.post("/api/complaints", json={"text": text, "merchant_name": "家乐福南岗店"})
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_code"])


def test_saved_search_delivers_each_new_match_once_across_a_restart(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    db_url: str,
    receiver: Receiver,
    mailbox: tuple[TrackingMailbox, int],
    workers: list[subprocess.Popen[bytes]],
) -> None:
    box, smtp_port = mailbox
    with session_factory(engine)() as session:
        consumer = make_association(session, "xiaoxie", [], consumer=True)
        headers = staff_headers(session, settings, "xiehui", "consumer_staff", consumer)
    created = client.post(
        "/api/watches",
        headers=headers,
        json={
            "name": "鸡蛋涨价",
            "kind": "search",
            "query": "鸡蛋",
            "channels": ["inbox", "webhook", "email"],
            "webhook_url": receiver.url,
            "webhook_secret": SECRET,
            "email": "officer@xiaoxie.example.cn",
        },
    )
    assert created.status_code == 201, created.text

    def start_worker() -> subprocess.Popen[bytes]:
        cycles_path(settings.data_dir).unlink(missing_ok=True)  # count the new worker's passes from zero
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.alerts.watch_worker",
                db_url,
                str(settings.data_dir),
                str(smtp_port),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        workers.append(process)
        return process

    first = [_file(client, f"超市鸡蛋一斤卖{n + 9}元，比上周贵了一倍，哄抬价格。") for n in range(3)]
    _file(client, "药店口罩一只卖30元，明显哄抬价格。")
    worker = start_worker()
    wait_until(lambda: set(_webhook_codes(receiver)) >= set(first), "the first matches by webhook", 60)
    wait_until(lambda: set(box.tracking_codes()) >= set(first), "the first matches by e-mail", 30)
    _wait_for_more_cycles(settings.data_dir)  # nothing may arrive twice
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    second = [_file(client, f"菜市场鸡蛋价格{n + 12}元一斤，商家坐地起价。") for n in range(2)]
    _file(client, "饭店的菜价格虚高，结账时多收了钱。")
    start_worker()
    everything = set(first + second)
    wait_until(
        lambda: set(_webhook_codes(receiver)) >= everything, "the new matches by webhook after restart", 60
    )
    wait_until(lambda: set(box.tracking_codes()) >= everything, "the new matches by e-mail after restart", 30)
    _wait_for_more_cycles(settings.data_dir)

    assert _webhook_codes(receiver) == Counter({code: 1 for code in everything})
    assert box.tracking_codes() == Counter({code: 1 for code in everything})
    assert receiver.rejected == []
    with session_factory(engine)() as session:
        inbox = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.watch_id.is_not(None), Delivery.channel == "inbox")
        )
    assert inbox == len(everything)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def test_association_watch_sees_its_own_complaints_and_merchant_alerts(
    client: TestClient, db: Session, settings: Settings, engine: Engine
) -> None:
    supermarkets = make_association(db, "chaoshi", ["supermarket"])
    pharmacies = make_association(db, "yaodian", ["pharmacy"])
    headers = staff_headers(db, settings, "chaoshi", "association_staff", supermarkets)
    shop = make_merchant(db, "家乐福南岗店", "supermarket")
    created = client.post(
        "/api/watches", headers=headers, json={"name": "家乐福", "kind": "merchant", "merchant_id": shop.id}
    )
    assert created.status_code == 201, created.text
    for association in (supermarkets, pharmacies):
        db.add(
            Complaint(
                tracking_code=f"TS-W{association.id:09d}",
                text="鸡蛋涨价",
                merchant_name=shop.name,
                association_id=association.id,
            )
        )
    db.commit()
    alert = make_alert(db, merchant=shop, product=make_product(db, "鸡蛋", "蛋类"))
    backend = lambda: get_search_backend(settings, engine)  # noqa: E731
    assert enqueue_watch_matches(db, backend) == 2  # its own complaint and the alert, inbox only
    assert enqueue_watch_matches(db, backend) == 0
    rows = db.scalars(select(Delivery).where(Delivery.watch_id.is_not(None))).all()
    assert {(row.complaint_id is not None, row.alert_id) for row in rows} == {(True, None), (False, alert.id)}
    assert all(row.association_id == supermarkets.id for row in rows)
    inbox = client.get("/api/inbox", headers=headers).json()
    assert inbox["count"] >= 2


def test_watch_input_is_checked_and_watches_are_private(
    client: TestClient, db: Session, settings: Settings
) -> None:
    consumer = make_association(db, "xiaoxie", [], consumer=True)
    mine = staff_headers(db, settings, "a", "consumer_staff", consumer)
    theirs = staff_headers(db, settings, "b", "consumer_staff", consumer)
    bad = [
        {"name": "x", "kind": "search"},
        {"name": "x", "kind": "merchant"},
        {"name": "x", "kind": "merchant", "merchant_id": 999},
        {"name": "x", "kind": "search", "query": "鸡蛋", "filters": {"colour": ["red"]}},
        {"name": "x", "kind": "search", "query": "鸡蛋", "channels": ["webhook"]},
        {"name": "x", "kind": "search", "query": "鸡蛋", "channels": ["webhook"], "webhook_url": "ftp://x"},
        {
            "name": "x",
            "kind": "search",
            "query": "鸡蛋",
            "channels": ["webhook"],
            "webhook_url": "http://169.254.169.254/",
        },
    ]
    for body in bad:
        response = client.post("/api/watches", headers=mine, json=body)
        assert response.status_code == 422, (body, response.text)
    made = client.post(
        "/api/watches",
        headers=mine,
        json={
            "name": "价格投诉",
            "kind": "search",
            "query": "涨价",
            "filters": {"nature": ["价格"]},
            "channels": ["webhook"],
            "webhook_url": "https://hooks.example.cn/in",
        },
    )
    assert made.status_code == 201 and len(made.json()["webhook_secret"]) > 20
    # A saved search follows no merchant: an id of one that does not exist was a 500 (foreign key).
    search_with_ids = client.post(
        "/api/watches",
        headers=mine,
        json={"name": "x", "kind": "search", "query": "鸡蛋", "merchant_id": 999, "category_id": 999},
    )
    assert search_with_ids.status_code == 201, search_with_ids.text
    assert (search_with_ids.json()["merchant_id"], search_with_ids.json()["category_id"]) == (None, None)
    client.delete(f"/api/watches/{search_with_ids.json()['id']}", headers=mine)
    watch_id = made.json()["id"]
    assert client.get("/api/watches", headers=mine).json()["count"] == 1
    assert "webhook_secret" not in client.get(f"/api/watches/{watch_id}", headers=mine).json()
    assert client.get(f"/api/watches/{watch_id}", headers=theirs).status_code == 404
    assert client.delete(f"/api/watches/{watch_id}", headers=theirs).status_code == 404
    assert client.delete(f"/api/watches/{watch_id}", headers=mine).status_code == 204
    assert client.get("/api/watches", headers=mine).json()["count"] == 0
    assert db.get(Watch, watch_id) is not None
    assert client.get("/api/watches").status_code == 401
