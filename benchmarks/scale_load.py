"""The issue's load run: 50 concurrent clients file 5,000 complaints through POST /api/complaints on
loopback, against ``--workers`` uvicorn worker processes over one database, while staff searches run.

Then checks what the test checks (each acknowledged complaint stored exactly once, found by searching
its own token, ``reindex --check`` clean) and prints throughput and p50/p95 of submissions and of the
searches that ran meanwhile, with single-worker throughput measured in the same run as the baseline.

    .venv/bin/python benchmarks/scale_load.py [--complaints 5000] [--workers 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--osmem | --search-url URL]

``--database-url`` + ``--osmem`` is the scaled-out configuration (PostgreSQL + the Elasticsearch API, here
a local osmem-server); without them the index is FTS5 (in the SQLite file, or a sidecar file beside PG).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from sqlalchemy import make_url, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import make_engine
from core.models import Complaint
from tests.scale.load import (
    ROOT,
    LoadReport,
    app_environment,
    find_marker,
    prepare_database,
    run_load,
    running_api,
    staff_headers,
)

MARKER = re.compile(r"lt(\d{6})x")


@contextmanager
def fresh_database(server_url: str, folder: Path, label: str) -> Iterator[str]:
    """A new SQLite file, or a new database on the given PostgreSQL server dropped afterwards."""
    if not server_url:
        yield f"sqlite:///{folder / f'{label}.db'}"
        return
    server = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"fairmarket_load_{label}_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


async def unfound(base_url: str, report: LoadReport, sample: int) -> list[int]:
    """Acknowledged submissions (every ``sample``-th) whose own token does not find exactly them."""
    numbers = sorted(report.acknowledged)[::sample]
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        headers = await staff_headers(client)
        found = [await find_marker(client, headers, number) for number in numbers]
    return [n for n, ids in zip(numbers, found, strict=True) if ids != [report.acknowledged[n]]]


def stored_problems(url: str, report: LoadReport) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(Complaint.id, Complaint.text)).all()
    engine.dispose()
    markers = Counter(int(m.group(1)) for _, body in rows if (m := MARKER.search(body)))
    problems = []
    if missing := set(report.acknowledged) - set(markers):
        problems.append(f"{len(missing)} acknowledged complaints not stored")
    if doubled := [n for n, count in markers.items() if count > 1]:
        problems.append(f"{len(doubled)} complaints stored more than once")
    if unanswered := set(markers) - set(report.acknowledged):
        problems.append(f"{len(unanswered)} stored though their client saw no answer (not an error)")
    return problems


def one_run(
    server_url: str, folder: Path, complaints: int, workers: int, clients: int, search_url: str = ""
) -> LoadReport:
    label = f"w{workers}"
    with fresh_database(server_url, folder, label) as url:
        prepare_database(url)
        environment = app_environment(url, folder / label, search_url)
        environment["FAIRMARKET_SEARCH_INDEX"] = f"fairmarket-load-{label}-{uuid.uuid4().hex[:6]}"
        with running_api(environment, workers=workers) as base_url:
            report = asyncio.run(run_load(base_url, complaints, clients=clients))
            missing_in_search = asyncio.run(unfound(base_url, report, max(1, complaints // 500)))
        check = subprocess.run(
            [sys.executable, "-m", "cli.main", "reindex", "--check"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
        )
        problems = stored_problems(url, report)
    kind = make_url(url).get_backend_name() + (" + Elasticsearch API" if search_url else " + FTS5")
    print(f"[{kind}, {workers} worker(s)] {report.summary()}")
    print(
        f"  stored exactly once: {'yes' if not problems else '; '.join(problems)}; "
        f"sampled search misses: {len(missing_in_search)}; reindex --check: "
        f"{'clean' if check.returncode == 0 else check.stdout.strip()}"
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server; default: SQLite files")
    search = parser.add_mutually_exclusive_group()
    search.add_argument("--osmem", action="store_true", help="index in a local osmem-server (ES API)")
    search.add_argument("--search-url", default="", help="index in this Elasticsearch/OpenSearch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        search_url = args.search_url
        if args.osmem:
            from osmem_server import OsmemServer

            search_url = stack.enter_context(OsmemServer.start(japanese=False)).url
        baseline, scaled = (
            one_run(args.database_url, Path(folder), args.complaints, workers, args.clients, search_url)
            for workers in (1, args.workers)
        )
    print(
        f"throughput {args.workers} workers / 1 worker: {scaled.throughput / baseline.throughput:.2f}x; "
        f"acknowledged {len(scaled.acknowledged)}/{args.complaints}"
    )
    return 0 if len(scaled.acknowledged) == args.complaints and not scaled.refused else 1


if __name__ == "__main__":
    sys.exit(main())
