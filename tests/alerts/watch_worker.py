"""The delivering process for the watch test (``python -m tests.alerts.watch_worker DB DATA_DIR PORT``).

It runs the scheduler's deliver job (watch matching, fan-out, sending) in a loop until it is killed, and
after each pass writes how many it has finished to ``DATA_DIR/watch_worker.cycles`` (the test waits on that).
"""

from __future__ import annotations

import os
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
    cycles_file = cycles_path(Path(data_dir))
    cycles = 0
    while True:
        deliver_task(settings, engine)
        cycles += 1
        partial = cycles_file.with_suffix(".partial")
        partial.write_text(str(cycles))
        os.replace(partial, cycles_file)  # the reader never sees a half-written number
        time.sleep(0.1)


def cycles_path(data_dir: Path) -> Path:
    return data_dir / "watch_worker.cycles"


def finished_cycles(data_dir: Path) -> int:
    """How many passes the running worker has finished (0 before its first)."""
    path = cycles_path(data_dir)
    return int(path.read_text()) if path.exists() else 0


if __name__ == "__main__":
    main(*sys.argv[1:4])
