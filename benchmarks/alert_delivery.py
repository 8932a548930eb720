"""What the outbox costs over sending directly, and what fan-out costs per alert and subscription.

In one run, against a local HTTP receiver on 127.0.0.1 and a fresh database (SQLite by default):

- baseline: N signed webhook POSTs sent straight from a loop (``alerts.channels.webhook.send``);
- outbox: the same N messages through ``deliver_due`` (lease, send, record the outcome per row);
- fan-out: ``enqueue_pending`` over A alerts and S subscriptions, then again (nothing new: the
  idempotent re-run every scheduler tick pays).

    .venv/bin/python benchmarks/alert_delivery.py [--messages 500] [--subscriptions 40] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from alerts.channels import Message, webhook
from alerts.delivery import deliver_due
from alerts.enqueue import enqueue_pending
from core.config import Settings
from core.db import make_engine, session_factory, upgrade_database
from core.models import Alert, Association, Merchant, Subscription

INDUSTRIES = ["supermarket", "pharmacy", "catering", "farm_market", "ecommerce"]


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def _seed(sessions: Any, alerts: int, subscriptions: int, url: str) -> None:
    with sessions() as session:
        associations = [
            Association(code=f"a{i}", name=f"协会{i}", industries=[INDUSTRIES[i % len(INDUSTRIES)]])
            for i in range(len(INDUSTRIES))
        ]
        merchants = [
            Merchant(name=f"商户{i}", industry=INDUSTRIES[i % len(INDUSTRIES)], district="南岗区")
            for i in range(50)
        ]
        session.add_all([*associations, *merchants])
        session.flush()
        for i in range(subscriptions):
            session.add(
                Subscription(
                    association_id=associations[i % len(associations)].id,
                    name=f"订阅{i}",
                    channels=["inbox", "webhook"],
                    webhook_url=url,
                    webhook_secret="benchmark-secret",
                    min_severity=["low", "medium", "high"][i % 3],
                    created_at=dt.datetime(2000, 1, 1),
                )
            )
        for i in range(alerts):
            merchant = merchants[i % len(merchants)]
            session.add(
                Alert(
                    episode_key=f"bench-{i}",
                    rule_id="emergency-rise-10",
                    kind="emergency_rise",
                    merchant_id=merchant.id,
                    industry=merchant.industry,
                    start_date=dt.date(2020, 1, 28),
                    end_date=dt.date(2020, 2, 1),
                    severity=["low", "medium", "high", "critical"][i % 4],
                    evidence={"current": 6.4, "reference": {"value": 3.2}, "change": 1.0},
                )
            )
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500, help="webhook messages to deliver")
    parser.add_argument("--subscriptions", type=int, default=40)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(database_url)
        upgrade_database(engine)
        sessions = session_factory(engine)
        settings = Settings(environment="test", database_url=database_url)

        message = Message(
            key="k", subject="s", body="b", document={"type": "alert", "evidence": {"current": 6.4}}
        )
        start = time.perf_counter()
        for index in range(args.messages):
            webhook.send(
                url, "benchmark-secret", Message(f"k{index}", message.subject, message.body, message.document)
            )
        direct = time.perf_counter() - start

        # one subscription per industry-and-severity slice: each alert matches about S/15 of them
        alerts = args.messages
        _seed(sessions, alerts, args.subscriptions, url)
        with sessions() as session:
            start = time.perf_counter()
            created = enqueue_pending(session)
            first_enqueue = time.perf_counter() - start
            start = time.perf_counter()
            again = enqueue_pending(session)
            second_enqueue = time.perf_counter() - start
        start = time.perf_counter()
        stats = deliver_due(sessions, settings, limit=10**9)
        outbox = time.perf_counter() - start
        engine.dispose()
    server.shutdown()

    direct_ms = direct / args.messages * 1000
    outbox_ms = outbox / max(stats.sent, 1) * 1000
    print(f"database: {database_url.split(':', 1)[0]}, {alerts} alerts x {args.subscriptions} subscriptions")
    print(f"baseline  direct signed POSTs    {args.messages:7d} in {direct:6.2f}s  {direct_ms:6.2f} ms each")
    print(
        f"outbox    deliver_due            {stats.sent:7d} in {outbox:6.2f}s  {outbox_ms:6.2f} ms each"
        f"  = {outbox_ms / direct_ms:4.2f}x baseline"
    )
    print(f"fan-out   enqueue_pending        {created:7d} rows in {first_enqueue:6.2f}s")
    print(
        f"fan-out   enqueue_pending again  {again:7d} rows in {second_enqueue:6.2f}s"
        f"  = {second_enqueue / first_enqueue:4.2f}x first run"
    )


if __name__ == "__main__":
    main()
