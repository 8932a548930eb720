"""A delivering process for the fault test: ``python -m tests.alerts.delivery_worker DATABASE_URL``.

It runs ``deliver_due`` in a loop with short backoff and lease, until it is killed.
"""

from __future__ import annotations

import sys
import time

from alerts.delivery import RetryPolicy, deliver_due
from core.config import Settings
from core.db import make_engine, session_factory

FAST_RETRY = RetryPolicy(base_seconds=0.2, cap_seconds=1.0, max_attempts=1000, lease_seconds=1.5)


def main(database_url: str) -> None:
    settings = Settings(environment="test", database_url=database_url, delivery_allowed_hosts=["127.0.0.1"])
    sessions = session_factory(make_engine(database_url))
    while True:
        stats = deliver_due(sessions, settings, retry=FAST_RETRY, batch=5)
        if not stats.claimed:
            time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1])
