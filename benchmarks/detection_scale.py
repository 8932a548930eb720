"""Time of judging every day of a year (``detect --since``) next to the time to load the same rows.

Generates ``--rows`` retail price observations over ``--days`` days (products x merchants x days,
merchants spread over Harbin's districts, a few sellers gouging for 5 days mid-span and in the last
days) plus the wholesale rows, bulk-loaded into a fresh SQLite file (executemany) or, with
``--database-url``, a fresh database created on that PostgreSQL server and dropped afterwards (COPY),
in a child process so the parent's peak memory is that of detection alone. Then, in one run:

* load: ``read_observations`` of every row the span's detection reads (the span and its lookback);
* span: ``run_detection_span(since=first day, as_of=last day)``, what ``fairmarket detect --since``
  runs (load + every enabled rule over every day + episodes + evidence + alert upsert).

Goal: span / load <= 5 (a day-by-day replay would re-read 120 days for each of the days instead).

    .venv/bin/python benchmarks/detection_scale.py [--rows 1000000] [--days 365] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, delete, func, make_url, select, text

from core.config import Settings
from core.db import make_engine, session_factory, upgrade_database
from core.models import Alert, Category, Merchant, PriceObservation, Product
from core.price_reads import read_observations
from jobs.detection import LOOKBACK_DAYS, run_detection_span

DISTRICTS = ("道里区", "南岗区", "道外区", "香坊区", "平房区", "松北区", "呼兰区", "阿城区", "双城区")
PRODUCTS = 100
LAST_DAY = dt.date(2026, 6, 30)
COLUMNS = (
    "natural_key",
    "source",
    "merchant_id",
    "product_id",
    "region",
    "observed_at",
    "observed_date",
    "price",
    "raw_unit",
    "unit_price",
    "standard_unit",
    "price_type",
    "availability",
    "fetched_at",
)


def _daily_rows(
    merchants: int, days_wanted: int, seed: int
) -> tuple[int, Iterator[list[tuple[object, ...]]]]:
    """How many series gouge, and each day's retail (product x merchant) and wholesale rows."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(1.0, 30.0, PRODUCTS)
    walk = np.exp(np.cumsum(rng.normal(0, 0.05, (days_wanted, PRODUCTS)), axis=0)) * base
    markup = rng.uniform(1.2, 1.6, merchants)
    gougers = rng.choice(PRODUCTS * merchants, size=max(PRODUCTS * merchants // 1000, 1), replace=False)
    regions = [DISTRICTS[merchant % len(DISTRICTS)] for merchant in range(merchants)]

    def days() -> Iterator[list[tuple[object, ...]]]:
        for day in range(days_wanted):
            date_text = (LAST_DAY - dt.timedelta(days=days_wanted - 1 - day)).isoformat()
            at_text = f"{date_text} 08:00:00.000000"
            prices = walk[day][:, None] * markup[None, :] * np.exp(rng.normal(0, 0.03, (PRODUCTS, merchants)))
            if day >= days_wanted - 5 or days_wanted // 2 <= day < days_wanted // 2 + 5:
                prices.reshape(-1)[gougers] *= 1.5
            prices = prices.round(4)
            rows: list[tuple[object, ...]] = []
            for product in range(PRODUCTS):
                for merchant, price in enumerate(prices[product].tolist()):
                    rows.append(
                        (
                            f"r{day}.{product}.{merchant}",
                            "bench",
                            merchant + 1,
                            product + 1,
                            regions[merchant],
                            at_text,
                            date_text,
                            price,
                            "500g",
                            price,
                            "500g",
                            "retail",
                            "in_stock",
                            at_text,
                        )
                    )
                wholesale = round(float(walk[day, product]), 4)
                rows.append(
                    (
                        f"w{day}.{product}",
                        "bench",
                        None,
                        product + 1,
                        "",
                        at_text,
                        date_text,
                        wholesale,
                        "500g",
                        wholesale,
                        "500g",
                        "wholesale",
                        None,
                        at_text,
                    )
                )
            yield rows

    return len(gougers), days()


def generate(url: str, rows_wanted: int, days_wanted: int, seed: int) -> None:
    """Fill a fresh database: catalogue, merchants and about ``rows_wanted`` retail observations."""
    engine = make_engine(url)
    upgrade_database(engine)
    merchants = max(rows_wanted // (PRODUCTS * days_wanted), 3)
    with session_factory(engine)() as session:
        category = Category(code="bench", name="基准商品")
        session.add(category)
        session.add_all(
            Product(
                id=index + 1,
                code=f"bench{index}",
                name=f"基准商品{index}",
                category=category,
                standard_unit="500g",
            )
            for index in range(PRODUCTS)
        )
        session.add_all(
            Merchant(id=index + 1, name=f"基准超市{index}", industry="超市", district=DISTRICTS[index % 9])
            for index in range(merchants)
        )
        session.commit()
        if engine.dialect.name == "postgresql":
            # Rows given explicit ids leave PostgreSQL's sequences behind; the catalogue that every entry
            # point seeds later would otherwise collide with them.
            for table in ("products", "merchants"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                session.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
            session.commit()
    began = time.perf_counter()
    gougers, days = _daily_rows(merchants, days_wanted, seed)
    stored = _bulk_insert(engine, days)
    print(
        f"generated and stored {stored:,} rows ({merchants} merchants x {PRODUCTS} products x "
        f"{days_wanted} days "
        f"+ wholesale, {gougers} gouging series) in {time.perf_counter() - began:.1f} s"
    )
    engine.dispose()


def _bulk_insert(engine: Engine, batches: Iterator[list[tuple[object, ...]]]) -> int:
    """COPY (PostgreSQL) or executemany (SQLite) each batch; one transaction; returns the row count."""
    raw = engine.raw_connection()
    stored = 0
    try:
        cursor = raw.cursor()
        names = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        for rows in batches:
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY price_observations ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO price_observations ({names}) VALUES ({marks})", rows)
            stored += len(rows)
        raw.commit()
    finally:
        raw.close()
    return stored


def measure(url: str, workdir: Path, days_wanted: int) -> float:
    engine = make_engine(url)
    settings = Settings(environment="test", data_dir=workdir, database_url=url)
    factory = session_factory(engine)
    with factory() as session:
        session.execute(delete(Alert))
        session.commit()
        count = session.scalar(select(func.count(PriceObservation.id)))
    since = LAST_DAY - dt.timedelta(days=days_wanted - 1)
    start = since - dt.timedelta(days=LOOKBACK_DAYS)
    with factory() as session:
        began = time.perf_counter()
        frame = read_observations(session, start=start, end=LAST_DAY)
        load = time.perf_counter() - began
    frame_bytes = frame.memory_usage(deep=True).sum()
    del frame
    with factory() as session:
        began = time.perf_counter()
        results = run_detection_span(session, settings, since=since, as_of=LAST_DAY).results
        full = time.perf_counter() - began
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    by_rule: dict[str, int] = {}
    for result in results:
        by_rule[result.rule] = by_rule.get(result.rule, 0) + 1
    print(f"database: {engine.dialect.name}, {count:,} observations")
    print(f"load (read_observations {start}..{LAST_DAY}, {frame_bytes / 2**20:.0f} MiB frame): {load:.1f} s")
    print(f"every day {since}..{LAST_DAY} judged (detect --since, load included): {full:.1f} s")
    print(f"ratio span / load: {full / load:.2f} (goal <= 5)")
    print(f"alerts raised: {len(results)} {by_rule}")
    print(f"peak memory (max RSS of the measuring process): {peak_mib:.0f} MiB")
    engine.dispose()
    return full / load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.database_url, args.rows, args.days, args.seed)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="fairmarket-scale-"))
    url = f"sqlite:///{workdir}/bench.db"
    server = None
    if args.database_url:
        server = make_engine(args.database_url).execution_options(isolation_level="AUTOCOMMIT")
        name = f"fairmarket_bench_{uuid.uuid4().hex[:12]}"
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    command = [
        sys.executable,
        __file__,
        "--generate-only",
        "--rows",
        str(args.rows),
        "--days",
        str(args.days),
        "--seed",
        str(args.seed),
    ]
    try:
        subprocess.run([*command, "--database-url", url], check=True)
        ratio = measure(url, workdir, args.days)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if server is not None:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()
    return 0 if ratio <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
