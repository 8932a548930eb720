"""How much of real source data the catalogue and its matcher understand, and how often the matcher is right.

Reads the real Xinfadi wholesale rows and the CUMCM supermarket items (names from 附件1, daily rows from
附件3) from the shared folder (never copied: they have no licence) and prints, per source, rows and names:

- catalogued   — a catalogue good claims the name (by alias or a readable rule, :mod:`core.matching`);
- provisional  — no good claims it: it would be stored as a provisional good (待归类) of its own;
- quarantined  — the row's price or unit is unusable (no price, low > high, a unit :mod:`core.units`
  cannot convert to the good's standard unit), whatever its name.

Next to it, the same counts with exact aliases only (the baseline, measured in the same run), the rules
that placed the names, the matcher's agreement with the hand-labelled list in
``tests/core/data/labelled_names.yaml`` (overall and on its parts-are-not-the-whole traps) and how fast
it maps names cold (every name new) against the exact-alias lookup.

    .venv/bin/python benchmarks/catalogue_coverage.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from core.catalogue import ProductMatcher, catalogue_products
from core.models import Product
from core.units import STANDARD_UNITS, UnitError, normalise_price

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT.parent / "shared/data/real"
LABELLED_NAMES = ROOT / "tests/core/data/labelled_names.yaml"


def usable(
    price: str | float | None,
    low: str | None,
    high: str | None,
    unit: str,
    spec: str | None,
    standard_unit: str | None,
) -> bool:
    """Whether a row's price and unit can be stored (else it is quarantined with a reason)."""
    try:
        value = float(price) if price not in (None, "") else 0.0
        if not value > 0:
            return False
        if low and high and float(low) > float(high):
            return False
        units = (standard_unit,) if standard_unit else STANDARD_UNITS
        for wanted in units:
            try:
                normalise_price(value, unit, spec or None, wanted)
                return True
            except UnitError:
                continue
        return False
    except ValueError:
        return False


def share(part: int, whole: int) -> str:
    return f"{part:>6,} ({part / whole:6.1%})" if whole else f"{part:>6,}"


def report(
    label: str,
    rows: list[tuple[str, bool]],
    resolve: Callable[[str], Product | None],
    exact: dict[str, Product],
) -> None:
    """``rows`` are (name, price and unit usable)."""
    names = {name for name, _ in rows}
    matched = {name for name in names if resolve(name) is not None}
    exact_matched = {name for name in names if name in exact}
    catalogued = sum(name in matched for name, _ in rows)
    exact_rows = sum(name in exact_matched for name, _ in rows)
    quarantined = sum(not ok for _, ok in rows)
    stored_catalogued = sum(ok and name in matched for name, ok in rows)
    stored_provisional = sum(ok and name not in matched for name, ok in rows)
    print(f"{label}: {len(rows):,} rows, {len(names):,} distinct names")
    print(
        f"  rows  with a catalogued good {share(catalogued, len(rows))}"
        f"   exact aliases only {share(exact_rows, len(rows))}"
    )
    print(
        f"  names catalogued             {share(len(matched), len(names))}"
        f"   exact aliases only {share(len(exact_matched), len(names))}"
    )
    print(f"  names provisional            {share(len(names) - len(matched), len(names))}")
    print(
        f"  rows stored catalogued {share(stored_catalogued, len(rows))} · stored provisional"
        f" {share(stored_provisional, len(rows))} · quarantined {share(quarantined, len(rows))}"
    )
    unmatched = Counter(name for name, _ in rows if name not in matched)
    print("  provisional names by rows:", "、".join(f"{n}×{c}" for n, c in unmatched.most_common(25)) or "—")


def labelled_precision(matcher: ProductMatcher, real_names: set[str]) -> None:
    entries = yaml.safe_load(LABELLED_NAMES.read_text(encoding="utf-8"))["names"]
    results = [(e, getattr(matcher.match(e["name"]), "code", None)) for e in entries]
    right = [e for e, got in results if got == e["good"]]
    traps = [e for e, _ in results if e.get("trap")]
    traps_right = [e for e in right if e.get("trap")]
    claimed = [(e, got) for e, got in results if got is not None]
    claimed_right = [e for e, got in claimed if got == e["good"]]
    print(
        f"Hand-labelled names ({LABELLED_NAMES.relative_to(ROOT)}): {len(entries)} names, {len(traps)} traps,"
        f" {sum(e['name'] in real_names for e in entries)} found verbatim in the real files"
    )
    print(f"  agreement overall            {len(right)}/{len(entries)} = {len(right) / len(entries):.1%}")
    print(
        f"  agreement on traps           {len(traps_right)}/{len(traps)}"
        f" = {len(traps_right) / len(traps):.1%}"
    )
    print(
        f"  precision of matches made    {len(claimed_right)}/{len(claimed)}"
        f" = {len(claimed_right) / len(claimed):.1%}"
    )
    for entry, got in results:
        if got != entry["good"]:
            print(f"  wrong: {entry['name']} → {got} (labelled {entry['good']})")


def speed(names: list[str], aliases: dict[str, Product]) -> None:
    """Cold matching (a new matcher per pass, so every name misses the cache) against a dict lookup."""
    distinct = sorted(set(names))
    started = time.perf_counter()
    passes = 0
    while time.perf_counter() - started < 1.0:
        matcher = ProductMatcher(aliases)
        for name in distinct:
            matcher.resolve(name)
        passes += 1
    build_and_resolve = (time.perf_counter() - started) / passes
    matcher = ProductMatcher(aliases)
    started = time.perf_counter()
    for _ in range(5):
        for name in names:
            matcher.resolve(name)
    cached = (time.perf_counter() - started) / (5 * len(names))
    started = time.perf_counter()
    for _ in range(5):
        for name in names:
            aliases.get(name)
    lookup = (time.perf_counter() - started) / (5 * len(names))
    print(
        f"Speed: build matcher + resolve {len(distinct)} distinct names cold:"
        f" {build_and_resolve * 1000:.1f} ms"
    )
    print(
        f"  per row, cached: {cached * 1e6:.2f} µs vs exact dict lookup {lookup * 1e6:.2f} µs"
        f" (ratio {cached / lookup:.1f}×)"
    )


def main(data_dir: Path) -> None:
    aliases = catalogue_products()
    matcher = ProductMatcher(aliases)
    goods = {id(p): p for p in aliases.values()}
    print(f"Catalogue: {len(goods)} goods, {len(aliases)} names")
    with (data_dir / "xinfadi/新发地菜价.csv").open(encoding="utf-8", newline="") as handle:
        xinfadi = list(csv.reader(handle))
    unique = list({row[0]: row for row in xinfadi}.values())

    def xinfadi_rows(rows: list[list[str]]) -> list[tuple[str, bool]]:
        out = []
        for row in rows:
            product = matcher.match(row[1])
            ok = usable(row[8], row[6], row[7], row[11], row[10], product.standard_unit if product else None)
            out.append((row[1], ok))
        return out

    report("Xinfadi wholesale (all rows)", xinfadi_rows(xinfadi), matcher.match, aliases)
    report("Xinfadi wholesale (unique ids)", xinfadi_rows(unique), matcher.match, aliases)
    items = pd.read_excel(data_dir / "cumcm2023c/附件1.xlsx", dtype={"单品编码": str})
    daily = pd.read_excel(data_dir / "cumcm2023c/附件3.xlsx", dtype={"单品编码": str})
    names_by_code = dict(zip(items["单品编码"], items["单品名称"].astype(str), strict=True))
    cumcm_items = [(name, True) for name in items["单品名称"].astype(str)]
    report("CUMCM supermarket items (附件1)", cumcm_items, matcher.match, aliases)
    cumcm_rows = [
        (names_by_code.get(code, ""), usable(price, None, None, "千克", None, None))
        for code, price in zip(daily["单品编码"], daily["批发价格(元/千克)"], strict=True)
    ]
    report("CUMCM supermarket daily rows (附件3)", cumcm_rows, matcher.match, aliases)
    rules = Counter(
        (matcher.resolve(name).rule or "none").split(":")[0]
        for name in {row[1] for row in xinfadi} | set(names_by_code.values())
    )
    print(
        "Rules that placed the distinct names:",
        ", ".join(f"{rule} {count}" for rule, count in rules.most_common()),
    )
    labelled_precision(matcher, {row[1] for row in xinfadi} | set(names_by_code.values()))
    speed([row[1] for row in xinfadi], aliases)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
