"""The delivering process for the watch test (``python -m tests.alerts.watch_worker DB DATA_DIR PORT``).

It runs the scheduler's deliver job (watch matching, fan-out, sending) in a loop until it is killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core.config import Settings
from core.db import make_engine
from jobs.scheduler import deliver_task


def main(database_url: str, data_dir: str, smtp_port: str) -> None:
    settings = Settings(
        environment="test",
        database_url=database_url,
        data_dir=Path(data_dir),
        search_url="",
        smtp_host="127.0.0.1",
        smtp_port=int(smtp_port),
        delivery_allowed_hosts=["127.0.0.1"],
    )
    engine = make_engine(database_url)
    while True:
        deliver_task(settings, engine)
        time.sleep(0.1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
