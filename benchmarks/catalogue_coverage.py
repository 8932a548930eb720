"""How much of real source data the catalogue and the unit module understand.

Reads the real Xinfadi wholesale rows and the CUMCM supermarket item names from the shared folder (never
copied: they have no licence) and reports, per source, the share of rows and of distinct names the
:class:`core.catalogue.ProductMatcher` maps, next to an exact-alias-only baseline measured in the same run,
then the share of matched Xinfadi rows whose unit converts to the good's standard unit, and the most
frequent names left unmapped (candidates for new aliases — or, rightly, goods we do not monitor).

    .venv/bin/python benchmarks/catalogue_coverage.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from core.catalogue import ProductMatcher, load_catalogue
from core.models import Product
from core.units import UnitError, normalise_price

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared/data/real"


def catalogue_aliases() -> dict[str, Product]:
    aliases: dict[str, Product] = {}
    for category in load_catalogue():
        for spec in category.products:
            product = Product(code=spec.code, name=spec.name, standard_unit=spec.unit)
            aliases.update(dict.fromkeys((spec.name, *spec.aliases), product))
    return aliases


def coverage(names: list[str], match: object) -> tuple[float, float]:
    """(share of rows, share of distinct names) that ``match`` maps."""
    matched = [name for name in names if match(name) is not None]  # type: ignore[operator]
    return len(matched) / len(names), len(set(matched)) / len(set(names))


def report(label: str, names: list[str], matcher: ProductMatcher, exact: dict[str, Product]) -> None:
    rows, distinct = coverage(names, matcher.match)
    exact_rows, exact_distinct = coverage(names, exact.get)
    print(f"{label}: {len(names):,} rows, {len(set(names)):,} distinct names")
    print(
        f"  matched rows     {rows:6.1%}  (exact aliases only: {exact_rows:6.1%},"
        f" ratio {rows / exact_rows:.2f})"
    )
    print(f"  matched names    {distinct:6.1%}  (exact aliases only: {exact_distinct:6.1%})")
    unmapped = Counter(name for name in names if matcher.match(name) is None)
    print("  most frequent unmapped:", "、".join(name for name, _ in unmapped.most_common(15)))


def main(data_dir: Path) -> None:
    aliases = catalogue_aliases()
    matcher = ProductMatcher(aliases)
    with (data_dir / "xinfadi/新发地菜价.csv").open(encoding="utf-8", newline="") as handle:
        xinfadi = list(csv.reader(handle))
    report("Xinfadi wholesale", [row[1] for row in xinfadi], matcher, aliases)
    converted = failed = 0
    failures: Counter[str] = Counter()
    for row in xinfadi:
        product = matcher.match(row[1])
        if product is None:
            continue
        try:
            normalise_price(float(row[8] or 0) or 1.0, row[11], row[10] or None, product.standard_unit)
            converted += 1
        except UnitError:
            failed += 1
            failures[f"{row[1]} {row[11]} {row[10]}"] += 1
    print(f"  unit conversion  {converted / (converted + failed):6.1%} of matched rows ({failed} failed)")
    if failures:
        print("  failed:", "、".join(f"{key} ×{count}" for key, count in failures.most_common(5)))
    cumcm = pd.read_excel(data_dir / "cumcm2023c/附件1.xlsx")["单品名称"].astype(str).tolist()
    report("CUMCM supermarket items", cumcm, matcher, aliases)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
