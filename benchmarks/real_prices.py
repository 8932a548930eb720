"""Every real price lands: the real Xinfadi and CUMCM rows through the commands a user runs, on fresh DBs.

Reads the real samples from ``../shared/data/real`` (never copied into the repository) and prints how many
rows were stored, filed under provisional goods, quarantined (with reasons) or skipped:

1. ``scrapy crawl xinfadi`` against a local stand-in of the site serving the real rows as its JSON pages
   (the 4,000 rows of the header-less dump, 3,980 unique ids), then the same crawl again;
2. ``fairmarket import prices --source xinfadi`` of the header-less dump itself, then again;
3. the CUMCM series (附件3 prices joined with 附件1 names and categories into one CSV of date, name,
   price, unit 元/千克, category) through ``fairmarket import prices``.

    .venv/bin/python benchmarks/real_prices.py [--data-dir ../shared/data/real] [--database-url URL]

``--database-url`` (a PostgreSQL server URL) runs on fresh PostgreSQL databases instead of SQLite files.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import openpyxl
from sqlalchemy import func, make_url, select, text
from sqlalchemy.orm import Session

from core.db import make_engine
from core.models import CrawlRun, PriceObservation, Product, QuarantinedItem
from importing.prices import XINFADI_FIELDS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "real"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=WARNING"]


def xinfadi_rows(path: Path) -> list[dict[str, Any]]:
    """The dump's rows as the site's JSON objects (its 20 fields in API order, no header line)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [dict(zip(XINFADI_FIELDS, cells, strict=False)) for cells in csv.reader(handle)]


@contextmanager
def stand_in_site(rows: list[dict[str, Any]]) -> Iterator[str]:
    """Xinfadi's ``POST /getPriceData.html`` on 127.0.0.1: the rows as its JSON pages, in file order."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:  # robots.txt and anything else: not there, so everything is allowed
            self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            limit, current = int(form.get("limit", 20)), int(form.get("current", 1))
            pages = max(1, math.ceil(len(rows) / limit))
            chunk = rows[(current - 1) * limit : current * limit] if current <= pages else []
            page = {"current": current, "limit": limit, "count": len(rows), "list": chunk}
            body = json.dumps(page, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def cumcm_csv(folder: Path, target: Path) -> int:
    """附件3 (date, item code, 元/千克) joined with 附件1 (code → name, category) into one CSV."""
    names = {}
    book = openpyxl.load_workbook(folder / "附件1.xlsx", read_only=True)
    for code, name, _category_code, category in list(book.worksheets[0].iter_rows(values_only=True))[1:]:
        names[str(code)] = (name, category)
    book.close()
    rows = 0
    book = openpyxl.load_workbook(folder / "附件3.xlsx", read_only=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "product", "price", "unit", "category"])
        for day, code, price in book.worksheets[0].iter_rows(min_row=2, values_only=True):
            name, category = names[str(code)]
            if not isinstance(day, dt.datetime):
                raise ValueError(f"附件3: sales date {day!r} is not a date cell")
            writer.writerow([day.date().isoformat(), name, price, "元/千克", category])
            rows += 1
    book.close()
    return rows


class Databases:
    """Fresh databases: SQLite files in a folder, or new databases on a PostgreSQL server."""

    def __init__(self, folder: Path, server_url: str | None) -> None:
        self.folder, self.server_url = folder, server_url
        self.created: list[str] = []

    def fresh(self, name: str) -> str:
        if not self.server_url:
            return f"sqlite:///{self.folder / name}.db"
        database = f"fairmarket_real_{name}_{uuid.uuid4().hex[:8]}"
        server = make_engine(self.server_url).execution_options(isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        server.dispose()
        self.created.append(database)
        return make_url(self.server_url).set(database=database).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.server_url:
            return
        server = make_engine(self.server_url).execution_options(isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            for database in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        server.dispose()


def run(command: list[str], database_url: str) -> float:
    started = time.perf_counter()
    environment = {**os.environ, "FAIRMARKET_DATABASE_URL": database_url}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment, timeout=1800)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def report(database_url: str, label: str, offered: int) -> dict[str, int]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(PriceObservation)) or 0
        provisional_rows = session.scalar(
            select(func.count())
            .select_from(PriceObservation)
            .join(Product, Product.id == PriceObservation.product_id)
            .where(Product.status == "provisional")
        )
        priced = session.execute(select(Product.id, Product.status).join(PriceObservation.product).distinct())
        goods = Counter(status for _, status in priced)
        reasons = Counter(
            reason.split(" (")[0][:60] for reason in session.scalars(select(QuarantinedItem.reason))
        )
        quarantined = sum(reasons.values())
    engine.dispose()
    share = stored / offered if offered else 0.0
    print(
        f"  {label}: {stored:,} of {offered:,} stored ({share:.2%}),"
        f" {provisional_rows:,} under provisional goods; {quarantined} quarantined;"
        f" goods with prices: {dict(goods)}"
    )
    for reason, count in reasons.most_common(8):
        print(f"      {count:4} × {reason}")
    return {"stored": stored, "quarantined": quarantined}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: SQLite files)")
    args = parser.parse_args()
    dump = args.data_dir / "xinfadi" / "新发地菜价.csv"
    rows = xinfadi_rows(dump)
    unique = len({row["id"] for row in rows})
    days = sorted({row["pubDate"][:10] for row in rows})
    python = sys.executable
    fairmarket = str(Path(sys.executable).parent / "fairmarket")
    with tempfile.TemporaryDirectory() as folder_name:
        databases = Databases(Path(folder_name), args.database_url)
        try:
            print(f"Xinfadi: {len(rows):,} rows, {unique:,} unique ids, {days[0]} … {days[-1]}")
            url = databases.fresh("crawl")
            with stand_in_site(rows) as site_url:
                crawl = [python, "-m", "scrapy", "crawl", "xinfadi", "-a", f"base_url={site_url}"]
                crawl += ["-a", f"start_date={days[0]}", "-a", f"end_date={days[-1]}", "-a", "limit=500"]
                crawl += ["-s", f"DATABASE_URL={url}", *FAST]
                seconds = run(crawl, url)
                first = report(url, f"scrapy crawl xinfadi (fresh database, {seconds:.1f}s)", unique)
                run(crawl, url)
                again = report(url, "the same crawl again", unique)
            engine = make_engine(url)
            with Session(engine) as session:
                runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
                for crawl_run in runs:
                    print(
                        f"      run {crawl_run.id}: {crawl_run.status}, stored {crawl_run.items_stored},"
                        f" quarantined {crawl_run.items_quarantined}, provisional {crawl_run.items_unmapped},"
                        f" duplicate {crawl_run.items_duplicate}"
                    )
            engine.dispose()
            print(f"  re-crawl added {again['stored'] - first['stored']} rows")

            url = databases.fresh("import")
            command = [fairmarket, "import", "prices", "--source", "xinfadi", str(dump)]
            seconds = run(command, url)
            first = report(
                url, f"fairmarket import prices --source xinfadi (header-less, {seconds:.1f}s)", unique
            )
            run(command, url)
            again = report(url, "the same import again", unique)
            print(f"  re-import added {again['stored'] - first['stored']} rows")

            target = Path(folder_name) / "cumcm.csv"
            offered = cumcm_csv(args.data_dir / "cumcm2023c", target)
            url = databases.fresh("cumcm")
            seconds = run([fairmarket, "import", "prices", str(target)], url)
            print(f"CUMCM 2023 C: {offered:,} rows joined from 附件3 + 附件1")
            report(url, f"fairmarket import prices ({seconds:.1f}s)", offered)
            engine = make_engine(url)
            with Session(engine) as session:
                names = session.execute(
                    select(PriceObservation.source_name, Product.status)
                    .join(Product, Product.id == PriceObservation.product_id)
                    .group_by(PriceObservation.source_name, Product.status)
                )
                statuses = Counter(status for _, status in names)
            engine.dispose()
            print(f"  item names with stored prices: {sum(statuses.values())} ({dict(statuses)})")
        finally:
            databases.drop_all()


if __name__ == "__main__":
    main()
