"""Pages per second of the xinfadi spider against a local fixture site, next to ``scrapy bench``.

In one run:

- baseline: ``scrapy bench`` (Scrapy's own spider following links on its local benchmark server, nothing
  stored), read from its final stats (pages received / elapsed seconds);
- ours: ``scrapy crawl xinfadi`` against the fixture site serving the REAL Xinfadi rows from
  ``../shared/data/real/xinfadi/`` (read from there, never copied; repeated over shifted days with
  ``--repeat`` for a longer run), with the whole pipeline (parse, validate, map, normalise, dedupe,
  store in a fresh SQLite database) and the same concurrency as ``scrapy bench`` (16, 8 per domain),
  politeness delays off. Pages/s = pages parsed / crawl duration from its crawl_runs row.

    .venv/bin/python -m benchmarks.crawl_throughput [--repeat 3] [--limit 20] [--database-url URL]

Goal: ratio (ours / bench) >= 0.8.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.db import make_engine, upgrade_database
from core.models import CrawlRun
from importing.prices import XINFADI_FIELDS
from tests.crawlers.fixture_site import FixtureSite, serve

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_ROWS = PROJECT_ROOT.parent / "shared" / "data" / "real" / "xinfadi" / "新发地菜价.csv"
# The site's price fields, in its order; the rest of a saved row is the site's bookkeeping.
COLUMNS = XINFADI_FIELDS[: XINFADI_FIELDS.index("pubDate") + 1]
SAME_CONCURRENCY = ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
NO_DELAYS = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=INFO"]


def real_rows(repeat: int) -> list[dict[str, Any]]:
    """The real rows in API shape; copy k is moved 10*k days later and given new ids."""
    with REAL_ROWS.open(encoding="utf-8", newline="") as handle:
        base = [dict(zip(COLUMNS, record[: len(COLUMNS)], strict=True)) for record in csv.reader(handle)]
    rows = []
    for copy in range(repeat):
        for row in base:
            shifted = dt.datetime.fromisoformat(row["pubDate"]) + dt.timedelta(days=10 * copy)
            rows.append(
                {**row, "id": int(row["id"]) + copy * 10_000_000, "pubDate": f"{shifted:%Y-%m-%d %H:%M:%S}"}
            )
    return rows


def scrapy_bench() -> tuple[int, float]:
    """(pages, seconds) of ``scrapy bench`` run outside the project (Scrapy's default settings)."""
    with tempfile.TemporaryDirectory() as empty:
        env = {key: value for key, value in os.environ.items() if key != "SCRAPY_SETTINGS_MODULE"}
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "bench"], cwd=empty, env=env, capture_output=True, text=True
        )
    log = result.stderr
    pages = re.search(r"'response_received_count': (\d+)", log)
    seconds = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    if result.returncode != 0 or not pages or not seconds:
        raise SystemExit(f"scrapy bench failed:\n{log[-3000:]}")
    return int(pages.group(1)), float(seconds.group(1))


def xinfadi_crawl(site_url: str, database_url: str, start: str, end: str, limit: int) -> CrawlRun:
    engine = make_engine(database_url)
    upgrade_database(engine)
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    command = [sys.executable, "-m", "scrapy", "crawl", "xinfadi", "-a", f"base_url={site_url}"]
    command += ["-a", f"start_date={start}", "-a", f"end_date={end}", "-a", f"limit={limit}"]
    command += ["-s", f"DATABASE_URL={database_url}", *SAME_CONCURRENCY, *NO_DELAYS]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"scrapy crawl xinfadi failed:\n{result.stderr[-3000:]}")
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
    engine.dispose()
    if run is None or not run.duration_seconds:
        raise SystemExit("the crawl left no crawl_runs row")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="copies of the real rows (10 days apart)")
    parser.add_argument("--limit", type=int, default=20, help="rows per page, as the site's default")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()

    rows = real_rows(args.repeat)
    dates = sorted(row["pubDate"][:10] for row in rows)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        with serve(FixtureSite(rows=rows)) as site:
            run = xinfadi_crawl(site.url, database_url, dates[0], dates[-1], args.limit)
        bench_pages, bench_seconds = scrapy_bench()
    if not run.duration_seconds:
        raise SystemExit(f"the crawl did not finish (status {run.status!r}): no throughput to report")

    ours = run.pages / run.duration_seconds
    bench = bench_pages / bench_seconds
    items = run.items_stored + run.items_quarantined + run.items_unmapped + run.items_duplicate
    print(f"rows served: {len(rows)} real Xinfadi rows, {args.limit} per page")
    print(
        f"xinfadi spider: {run.pages} pages, {items} items ({run.items_stored} stored, "
        f"{run.items_quarantined} quarantined, {run.items_unmapped} unmapped, "
        f"{run.items_duplicate} duplicate) "
        f"in {run.duration_seconds:.2f} s = {ours:.1f} pages/s ({items / run.duration_seconds:.0f} items/s)"
    )
    print(f"scrapy bench:   {bench_pages} pages in {bench_seconds:.2f} s = {bench:.1f} pages/s")
    print(f"ratio (xinfadi / scrapy bench): {ours / bench:.2f}  (goal >= 0.8)")


if __name__ == "__main__":
    main()
