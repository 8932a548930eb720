"""The published price index on real data against a drift-free reference, and the price API's speed.

Part 1 — real prices: the CUMCM 2023 C daily wholesale series (251 vegetables, 2020-07 … 2023-06, read
from ``../shared/data/real/cumcm2023c``, never copied; about 51 items priced a day, seasonal items entering
dear and leaving cheap, a few 0.01 元/kg rows). For each of its six categories it computes, in one run:

- the published index: GEKS-Jevons over a rolling 395-day window, mean splice, day by day; and for
  contrast the same window spliced on the published values (``splice="mean_published"``, "on-pub");
  (:func:`analysis.price_index.price_index_geks`, what ``/api/prices/index`` serves);
- the reference: one GEKS-Jevons over all three years (:func:`analysis.price_index.price_index_geks_full`),
  transitive over the whole span, so free of chain drift (not publishable: each new day revises it all);
- the chained daily Jevons (:func:`analysis.price_index.price_index_jevons`) for contrast.

All three are expressed on the same base period, the first quarter of the data (2020 Q3 = 100, the
geometric mean of its days: a single day with two items priced is a poor common base). Printed per category
and quarter end: log(published / reference) and log(chained / reference); goal: the published index within
0.15 of the reference at every quarter end. Also the time of each computation.

Part 2 — API speed: a SQLite file of synthetic retail prices (every catalogue good × SELLERS shops ×
DAYS days in one city) served by the real app. For each endpoint a dashboard calls it times the first
request (for an index: computing and storing its published series over all history) and, as the
baseline, reading the same rows with ``core.price_reads.read_observations`` (median of REPEATS), prints
both and their ratio, and the median time of the same request repeated.

    .venv/bin/python benchmarks/price_index.py [SELLERS] [DAYS]
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from analysis.baskets import BASKETS_FILE, parse_baskets
from analysis.price_index import price_index_geks, price_index_geks_full, price_index_jevons
from api.main import create_app
from core.catalogue import seed_catalogue
from core.config import Settings
from core.db import make_engine, session_factory, upgrade_database
from core.models import Category, Merchant, PriceObservation, Product
from core.price_reads import read_observations
from jobs.index_series import category_goods

#: ``shared`` sits beside the clone (CI, /work/main) or beside the worktrees' folder.
REAL = next(
    (
        folder / "shared" / "data" / "real" / "cumcm2023c"
        for folder in Path(__file__).resolve().parents[2:4]
        if (folder / "shared" / "data" / "real").is_dir()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "cumcm2023c",
)
REPEATS = 5
CITY = "哈尔滨"
FIRST_DAY = dt.date(2025, 1, 1)
GOAL_LOG_GAP = 0.15


def read_cumcm() -> pd.DataFrame:
    """The real series as observations (one market, so an item is a product), with its category."""
    prices = pd.read_excel(REAL / "附件3.xlsx")
    items = pd.read_excel(REAL / "附件1.xlsx")
    frame = prices.merge(items[["单品编码", "分类名称"]], on="单品编码")
    return pd.DataFrame(
        {
            "date": pd.to_datetime(frame["日期"]),
            "merchant_id": 1,
            "product_id": frame["单品编码"],
            "region": "",
            "unit_price": frame["批发价格(元/千克)"] / 2,  # 元/500g
            "category": frame["分类名称"],
        }
    )


def on_base_period(frame: pd.DataFrame, base_days: pd.Timestamp) -> pd.Series:
    """log index per (category, date), each category's mean log over days before ``base_days`` = 0."""
    logs = np.log(frame.set_index(["category", "date"])["index"])
    early = logs[logs.index.get_level_values("date") < base_days]
    return (
        logs
        - early.groupby(level="category").mean().reindex(logs.index.get_level_values("category")).to_numpy()
    )


def part_real_index() -> bool:
    print("== published GEKS-Jevons (395-day window, mean splice) on the real CUMCM 2023 C series ==")
    observations = read_cumcm()
    timed = {}
    results = {}
    for name, compute in (
        ("published", partial(price_index_geks, observations, by=("category",))),
        ("on published", partial(price_index_geks, observations, by=("category",), splice="mean_published")),
        ("reference", partial(price_index_geks_full, observations, by=("category",))),
        ("chained", partial(price_index_jevons, observations, by=("category",))),
    ):
        started = time.perf_counter()
        results[name] = compute()
        timed[name] = time.perf_counter() - started
    print(
        f"{len(observations):,} prices, {observations['product_id'].nunique()} items, "
        f"{observations['date'].nunique()} days; published {timed['published']:.1f} s, "
        f"full-window reference {timed['reference']:.1f} s, chained {timed['chained']:.2f} s"
    )
    first = observations["date"].min()
    base_days = first + pd.offsets.QuarterBegin(startingMonth=1)
    published, reference, chained, on_published = (
        on_base_period(results[name], base_days)
        for name in ("published", "reference", "chained", "on published")
    )
    quarter_ends = pd.date_range(first, observations["date"].max(), freq="QE")
    gap = (published - reference).unstack("category")
    drift = (chained - reference).unstack("category")
    spliced_on_published = (on_published - reference).unstack("category")
    at_ends = gap.reindex(gap.index.intersection(quarter_ends))
    print(
        f"log(published / reference) at quarter ends, base {first.date()}.."
        f"{(base_days - pd.Timedelta(days=1)).date()} = 100:"
    )
    print(at_ends.round(3).to_string())
    print(
        "per category: items priced a day (median), worst |log(published/reference)| at a quarter end and"
        " on any"
    )
    print(
        "day, the same with a mean splice on published values at a quarter end, the chained index's worst"
        " |log(chained/reference)| at a quarter end, and the last day's values:"
    )
    print(
        f"{'category':<8} {'priced':>6} {'pub q-end':>9} {'pub any':>8} {'on-pub q-end':>12}"
        f" {'chain q-end':>11}"
        f" {'published':>9} {'reference':>9} {'chained':>9}"
    )
    met = True
    for category in gap.columns:
        worst = float(at_ends[category].abs().max())
        met &= worst <= GOAL_LOG_GAP
        rows = results["published"][results["published"]["category"] == category]
        last = rows["date"].max()
        values = [float(np.exp(series[(category, last)]) * 100) for series in (published, reference, chained)]
        print(
            f"{category:<8} {rows['priced'].median():>6.0f} {worst:>9.3f} {gap[category].abs().max():>8.3f}"
            f" {spliced_on_published[category].reindex(at_ends.index).abs().max():>12.3f}"
            f" {drift[category].reindex(at_ends.index).abs().max():>11.3f}"
            f" {values[0]:>9.1f} {values[1]:>9.1f} {values[2]:>9.1f}"
        )
    print(
        f"goal: published within {GOAL_LOG_GAP} in log of the reference at every quarter end: "
        f"{'met' if met else 'NOT met'}"
    )
    return met


def build_database(path: Path, sellers: int, days: int) -> tuple[str, int]:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_database(engine)
    rng = np.random.default_rng(5)
    with session_factory(engine)() as session:
        seed_catalogue(session)
        shops = [
            Merchant(name=f"{CITY}测试超市{number:03d}店", district="南岗区") for number in range(sellers)
        ]
        session.add_all(shops)
        session.commit()
        products = session.execute(select(Product.id, Product.standard_unit)).all()
        rows = 0
        for product_id, unit in products:
            market = (2 + 20 * rng.random()) * np.exp(np.cumsum(rng.normal(0, 0.02, days)))
            batch = []
            for shop in shops:
                markup = 1.2 + 0.2 * rng.random()
                noise = np.exp(rng.normal(0, 0.02, days))
                for day in range(days):
                    observed = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(9))
                    price = round(float(market[day] * markup * noise[day]), 2)
                    batch.append(
                        {
                            "natural_key": f"{shop.id}-{product_id}-{day}",
                            "source": "benchmark",
                            "merchant_id": shop.id,
                            "product_id": product_id,
                            "region": CITY,
                            "observed_at": observed,
                            "observed_date": observed.date(),
                            "price": price,
                            "raw_unit": "斤",
                            "unit_price": price,
                            "standard_unit": unit,
                            "price_type": "retail",
                        }
                    )
            session.execute(insert(PriceObservation), batch)
            rows += len(batch)
        session.commit()
    engine.dispose()
    return url, rows


def median_seconds(call: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def part_api_speed(sellers: int, days: int) -> None:
    print(f"\n== price API speed: {sellers} sellers x every catalogue good x {days} days ==")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        url, rows = build_database(Path(folder) / "bench.db", sellers, days)
        print(f"{rows:,} observations written in {time.perf_counter() - started:.1f} s")
        settings = Settings(environment="test", data_dir=Path(folder), database_url=url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        with sessions() as session:
            ids = {code: product_id for code, product_id in session.execute(select(Product.code, Product.id))}
            vegetables = list(  # the category's goods and its sub-categories', as the API reads them
                category_goods(
                    session, session.scalars(select(Category).where(Category.code == "vegetables")).one()
                )
            )
        basket = [ids[code] for code in _livelihood_codes() if code in ids]
        end = FIRST_DAY + dt.timedelta(days=days - 1)
        window = {"from": FIRST_DAY.isoformat(), "to": end.isoformat()}
        cabbage = {"product": "chinese_cabbage", "region": CITY, **window}
        cases: list[tuple[str, str, dict[str, str], list[int]]] = [
            ("series day", "/api/prices/series", cabbage, [ids["chinese_cabbage"]]),
            (
                "series month",
                "/api/prices/series",
                {**cabbage, "frequency": "month"},
                [ids["chinese_cabbage"]],
            ),
            (
                "index category",
                "/api/prices/index",
                {"category": "vegetables", "city": CITY, **window},
                vegetables,
            ),
            ("index basket", "/api/prices/index", {"basket": "livelihood", "city": CITY, **window}, basket),
        ]
        print(f"{'request':<15} {'rows':>9} {'read rows':>10} {'first call':>11} {'ratio':>6} {'repeat':>8}")
        with TestClient(create_app(settings)) as client, sessions() as session:
            for name, path, params, product_ids in cases:
                read = partial(
                    read_observations,
                    session,
                    product_ids=product_ids,
                    start=FIRST_DAY,
                    end=end,
                    price_type="retail",
                    region=CITY,
                )
                baseline = median_seconds(read)
                started = time.perf_counter()
                response = client.get(path, params=params)
                first = time.perf_counter() - started
                assert response.status_code == 200, response.text
                repeat = median_seconds(partial(client.get, path, params=params))
                print(
                    f"{name:<15} {len(read()):>9,} {baseline * 1000:>8.0f}ms {first * 1000:>9.0f}ms"
                    f" {first / baseline:>6.2f} {repeat * 1000:>6.0f}ms"
                )
        engine.dispose()


def _livelihood_codes() -> set[str]:
    return set(parse_baskets(yaml.safe_load(BASKETS_FILE.read_text(encoding="utf-8")))["livelihood"].weights)


if __name__ == "__main__":
    sellers = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 365
    met = part_real_index()
    part_api_speed(sellers, days)
    sys.exit(0 if met else 1)
