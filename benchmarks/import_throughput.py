"""Throughput of ``fairmarket import prices`` against the bare write path it is built on.

Writes a CSV of N synthetic price rows (catalogue goods × merchants × days, a few units and specs) to a
temporary folder, then on fresh SQLite databases measures, in the same run:

- baseline: :func:`core.prices.store_observations` on ready-made observations (no reading or parsing);
- import: streaming the CSV through :func:`importing.prices.import_prices` (read, validate, match,
  normalise, store, commit per batch);
- re-import: the same file again (every row a duplicate).

    .venv/bin/python benchmarks/import_throughput.py [ROWS]
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from core.catalogue import seed_catalogue
from core.db import make_engine, session_factory, upgrade_database
from core.models import Product
from core.prices import PriceInput, store_observations
from core.units import normalise_price
from importing.prices import import_prices
from importing.readers import read_rows

QUOTES = {"500g": ("斤", ""), "L": ("桶", "5L"), "piece": ("盒", "50片/盒")}
MERCHANTS = [f"测试超市{n:02d}店" for n in range(20)]


def write_csv(path: Path, rows: int, products: list[Product]) -> None:
    start = dt.date(2026, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "product", "price", "unit", "spec", "merchant", "region"])
        for index in range(rows):
            product = products[index % len(products)]
            merchant = MERCHANTS[(index // len(products)) % len(MERCHANTS)]
            day = start + dt.timedelta(days=index // (len(products) * len(MERCHANTS)))
            unit, spec = QUOTES[product.standard_unit]
            writer.writerow(
                [
                    day.isoformat(),
                    product.name,
                    f"{3 + index % 17 * 0.37:.2f}",
                    unit,
                    spec,
                    merchant,
                    "南岗区",
                ]
            )


def fresh_session(folder: Path, name: str):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{folder / name}")
    upgrade_database(engine)
    session = session_factory(engine)()
    seed_catalogue(session)
    session.commit()
    return session


def observations(path: Path, session) -> list[PriceInput]:  # type: ignore[no-untyped-def]
    by_name = {p.name: p for p in session.scalars(select(Product))}
    result = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            product = by_name[row["product"]]
            normalised = normalise_price(
                float(row["price"]), row["unit"], row["spec"] or None, product.standard_unit
            )
            result.append(
                PriceInput(
                    source="import",
                    product_id=product.id,
                    merchant=row["merchant"],
                    region=row["region"],
                    observed_at=dt.date.fromisoformat(row["date"]),
                    price=float(row["price"]),
                    raw_unit=row["unit"],
                    unit_price=normalised.unit_price,
                    standard_unit=normalised.standard_unit,
                )
            )
    return result


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        baseline_session = fresh_session(folder, "baseline.db")
        products = list(baseline_session.scalars(select(Product).order_by(Product.id)))
        path = folder / "prices.csv"
        write_csv(path, rows, products)
        ready = observations(path, baseline_session)
        started = time.perf_counter()
        for offset in range(0, len(ready), 1000):
            store_observations(baseline_session, ready[offset : offset + 1000])
            baseline_session.commit()
        baseline = time.perf_counter() - started

        session = fresh_session(folder, "import.db")
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            with path.open("rb") as stream:
                summary = import_prices(session, read_rows(stream, path))
            timings.append(time.perf_counter() - started)
            print(f"  {summary.as_dict()}")
    print(f"{rows:,} rows, SQLite")
    lines = [("baseline store_observations", baseline), ("import prices (CSV)", timings[0])]
    lines.append(("re-import (all duplicates)", timings[1]))
    for label, seconds in lines:
        print(f"  {label:<28} {seconds:6.2f}s  {rows / seconds:9,.0f} rows/s  ×{seconds / baseline:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
