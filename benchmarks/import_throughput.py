"""Throughput of ``fairmarket import prices`` against the bare write path it is built on.

Writes a CSV of N synthetic price rows (catalogue goods × merchants × days, a few units and specs) to a
temporary folder, then on fresh SQLite databases measures, in the same run:

- baseline: :func:`core.prices.store_observations` on ready-made observations (no reading or parsing);
- import: streaming the CSV through :func:`importing.prices.import_prices` (read, validate, match,
  normalise, store, commit per batch);
- re-import: the same file again (every row a duplicate).

With ``--against REV`` (a git revision, e.g. the commit a session started from) it also runs the import of
the same kind of file with that revision's code and with this tree's, each in a fresh process on a fresh
database, alternating ``--rounds`` times, and prints this tree's rows/s as a share of REV's (the goods are
those both catalogues know, so neither side files rows as unknown).

    .venv/bin/python benchmarks/import_throughput.py [ROWS] [--against REV] [--rounds 3]

Measured (50,000 rows, SQLite, a shared 2-core machine, ``--against 3aff8e9``, the commit the session
that grew the catalogue started from): this tree's import ×1.04-1.06 of its rows/s in wall time and
×1.11-1.20 in CPU time per round (3 rounds); in-process, import ×1.16 of the bare write path (×1.66 there).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.db import make_engine, session_factory, upgrade_database
from core.models import Product
from core.prices import PriceInput, store_observations
from core.units import normalise_price
from importing.prices import import_prices
from importing.readers import read_rows

ROOT = Path(__file__).resolve().parents[1]
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


# Run by each tree's own Python path: list its catalogue (``names``) or time one import of a CSV.
IMPORT_ONCE = """
import sys, time
from pathlib import Path
from sqlalchemy import select
from core.catalogue import seed_catalogue
from core.db import make_engine, session_factory, upgrade_database
from core.models import Product
engine = make_engine(f"sqlite:///{sys.argv[2]}")
upgrade_database(engine)
session = session_factory(engine)()
seed_catalogue(session)
session.commit()
if sys.argv[1] == "names":
    for product in session.scalars(select(Product)):
        print(f"{product.name}\\t{product.standard_unit}")
    raise SystemExit
from importing.prices import import_prices
from importing.readers import read_rows
path = Path(sys.argv[1])
started, cpu = time.perf_counter(), time.process_time()
with path.open("rb") as stream:
    summary = import_prices(session, read_rows(stream, path))
print(time.perf_counter() - started, time.process_time() - cpu, summary.imported)
"""


def export_revision(revision: str, folder: Path) -> Path:
    """The files of ``revision`` (``git archive``) in ``folder``; the repository is left as it is."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def run_in_tree(tree: Path, *arguments: str) -> str:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ONCE, *arguments],
        cwd=tree,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def compare_with_revision(revision: str, rows: int, rounds: int, folder: Path) -> None:
    """This tree's import against ``revision``'s on one CSV of goods both know, alternating fresh runs."""
    reference = export_revision(revision, folder / "reference")
    known: dict[str, set[str]] = {}
    for tree in (reference, ROOT):
        listing = run_in_tree(tree, "names", str(folder / f"names-{len(known)}.db"))
        known[str(tree)] = set(listing.splitlines())
    common = sorted(known[str(reference)] & known[str(ROOT)])
    products = [Product(name=line.split("\t")[0], standard_unit=line.split("\t")[1]) for line in common]
    products = [product for product in products if product.standard_unit in QUOTES]
    path = folder / "common.csv"
    write_csv(path, rows, products)
    seconds: dict[str, list[float]] = {"reference": [], "this tree": []}
    cpu_seconds: dict[str, list[float]] = {"reference": [], "this tree": []}
    for round_number in range(rounds):
        for label, tree in (("reference", reference), ("this tree", ROOT)):
            output = run_in_tree(tree, str(path), str(folder / f"{label[:4]}-{round_number}.db"))
            elapsed, cpu, imported = output.split()
            assert int(imported) == rows, (label, output)
            seconds[label].append(float(elapsed))
            cpu_seconds[label].append(float(cpu))
    print(f"{rows:,} rows of {len(products)} goods both catalogues know, SQLite, {rounds} alternating rounds")
    # Wall time counts waiting for a busy machine's cores and disk; CPU time of the importing process
    # does not, so on a shared machine it is the steadier figure of the two.
    for kind, measured in (("wall", seconds), ("CPU", cpu_seconds)):
        for label, times in measured.items():
            rates = ", ".join(f"{rows / t:,.0f}" for t in times)
            print(f"  {label:<10} {kind:>4} rows/s {rates}  (median {rows / statistics.median(times):,.0f})")
        shares = [
            reference_time / own
            for reference_time, own in zip(measured["reference"], measured["this tree"], strict=True)
        ]
        print(
            f"  this tree / {revision} ({kind}): ×{statistics.median(shares):.2f} median "
            f"(rounds {', '.join(f'×{share:.2f}' for share in shares)})"
        )


def fresh_session(folder: Path, name: str) -> Session:
    engine = make_engine(f"sqlite:///{folder / name}")
    upgrade_database(engine)
    session = session_factory(engine)()
    seed_catalogue(session)
    session.commit()
    return session


def observations(path: Path, session: Session) -> list[PriceInput]:
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


def main(rows: int, against: str | None = None, rounds: int = 3) -> None:
    if against:
        with tempfile.TemporaryDirectory() as folder_name:
            compare_with_revision(against, rows, rounds, Path(folder_name))
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows", nargs="?", type=int, default=50_000)
    parser.add_argument("--against", metavar="REV", help="also compare with this git revision's import")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.rows, arguments.against, arguments.rounds)
