"""Precision and recall of gouging episodes on real wholesale price moves.

The real 3-year daily wholesale series of a supermarket chain's vegetables (CUMCM 2023 problem C,
``附件3.xlsx`` with names from ``附件1.xlsx``, read from ../shared/data/real/cumcm2023c, never copied)
drive several simulated retailers per item: each marks the wholesale price up by its own margin,
follows it with a lag of 0-1 days, keeps yesterday's price on some days (sticky prices) and adds noise.
Gouging episodes of +10%..+80% lasting 1..10 days are injected into some retailers. Everything is
stored in a fresh database and ``fairmarket detect --since FIRST --until LAST`` judges every day in one
call (as the daily runs would have), with the shipped rules.
An alert (of any rule) is a hit when it overlaps an injected episode of its
seller and item. Printed: precision over all alerts, recall of the target episodes (+25% or more for 3
days or more; goal >= 0.9 both) and the false alerts around market-wide moves (not overlapping an
injected episode, within 2 days of a day the real wholesale price moved 20% or more; goal 0).
``--retail-only`` stores no wholesale prices, to see the detectors with the retail median alone.

    .venv/bin/python benchmarks/detection_accuracy.py [--sellers 6] [--min-days 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from analysis.rules import RULES_FILE
from core.config import Settings
from core.db import make_engine, session_factory, upgrade_database
from core.models import Alert, Category, Merchant, PriceObservation, Product

#: ``shared`` sits beside the clone (CI, /work/main) or beside the worktrees' folder.
DATA_DIR = next(
    (
        folder / "shared" / "data" / "real" / "cumcm2023c"
        for folder in Path(__file__).resolve().parents[2:4]
        if (folder / "shared" / "data" / "real").is_dir()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "cumcm2023c",
)
SIZES = (0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 0.60, 0.80)
TARGET_SIZE, TARGET_DAYS = 0.25, 3
BIG_MOVE = 0.20
MOVE_MARGIN_DAYS = 2
REGION = "哈尔滨市"


@dataclass(frozen=True)
class Episode:
    merchant: int
    product: int
    start: dt.date
    end: dt.date
    size: float


def read_wholesale(data_dir: Path, min_days: int) -> pd.DataFrame:
    """Real daily wholesale prices [元/500g] of items seen on at least ``min_days`` days."""
    prices = pd.read_excel(data_dir / "附件3.xlsx")
    names = pd.read_excel(data_dir / "附件1.xlsx")
    prices.columns = ["date", "code", "price_per_kg"]
    counts = prices.groupby("code")["date"].transform("size")
    prices = prices[(counts >= min_days) & (prices["price_per_kg"] > 0)]
    named = prices.merge(
        names.rename(columns={"单品编码": "code", "单品名称": "name"})[["code", "name"]], on="code"
    )
    return named.assign(date=named["date"].dt.normalize(), price=named["price_per_kg"] / 2)


def simulate_retail(
    wholesale: pd.DataFrame, sellers: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[Episode]]:
    """Retail prices of ``sellers`` shops per item on top of the wholesale moves, with injected gouging."""
    frames = []
    episodes: list[Episode] = []
    for product, series in wholesale.groupby("product_id"):
        series = series.sort_values("date")
        cost = series["price"].to_numpy()
        dates = series["date"].to_numpy()
        for seller in range(sellers):
            merchant = seller + 1
            lag = int(rng.integers(0, 2))
            followed = np.concatenate([cost[:1].repeat(lag), cost[: len(cost) - lag]])
            price = followed * rng.uniform(1.25, 1.55) * np.exp(rng.normal(0, 0.03, len(cost)))
            sticky = rng.random(len(cost)) < 0.2
            for index in np.flatnonzero(sticky[1:]) + 1:
                price[index] = price[index - 1]
            if rng.random() < 0.5:
                position = 60 + int(rng.integers(0, 30))
                while position < len(cost) - 12:
                    length = int(rng.integers(1, 11))
                    size = float(rng.choice(SIZES))
                    price[position : position + length] *= 1 + size
                    start, end = dates[position], dates[position + length - 1]
                    episodes.append(
                        Episode(
                            merchant, int(product), pd.Timestamp(start).date(), pd.Timestamp(end).date(), size
                        )
                    )
                    position += length + int(rng.integers(60, 150))
            frames.append(
                pd.DataFrame({"date": dates, "merchant_id": merchant, "product_id": product, "price": price})
            )
    return pd.concat(frames, ignore_index=True), episodes


def store(session: Session, wholesale: pd.DataFrame | None, retail: pd.DataFrame) -> None:
    """Write the series as price observations with one executemany per price type."""
    table = PriceObservation.__table__
    assert isinstance(table, Table)
    fetched = dt.datetime(2023, 7, 1)

    def rows(frame: pd.DataFrame, price_type: str) -> list[dict[str, object]]:
        merchants = frame["merchant_id"] if "merchant_id" in frame else pd.Series([None] * len(frame))
        return [
            {
                "natural_key": f"{price_type}-{merchant}-{product}-{day:%Y%m%d}",
                "source": "cumcm2023c-sim",
                "merchant_id": None if merchant is None else int(merchant),
                "product_id": int(product),
                "region": REGION if price_type == "retail" else "",
                "observed_at": day.to_pydatetime(),
                "observed_date": day.date(),
                "price": round(float(price), 4),
                "raw_unit": "500g",
                "unit_price": float(price),
                "standard_unit": "500g",
                "price_type": price_type,
                "availability": "in_stock",
                "fetched_at": fetched,
            }
            for merchant, product, day, price in zip(
                merchants, frame["product_id"], frame["date"], frame["price"], strict=True
            )
        ]

    if wholesale is not None:
        session.execute(insert(table), rows(wholesale, "wholesale"))
    session.execute(insert(table), rows(retail, "retail"))
    session.commit()


def seed_catalogue(session: Session, wholesale: pd.DataFrame, sellers: int) -> pd.DataFrame:
    category = Category(code="vegetables", name="蔬菜")
    session.add(category)
    session.add_all(
        Merchant(id=index + 1, name=f"模拟超市{index + 1}", industry="超市") for index in range(sellers)
    )
    codes = wholesale[["code", "name"]].drop_duplicates("code")
    products = {
        code: Product(code=str(code), name=f"{name}#{code}", category=category, standard_unit="500g")
        for code, name in codes.itertuples(index=False)
    }
    session.add_all(products.values())
    session.commit()
    return wholesale.assign(
        product_id=wholesale["code"].map({code: product.id for code, product in products.items()})
    )


def overlaps(alert: Alert, episode: Episode) -> bool:
    return (
        alert.merchant_id == episode.merchant
        and alert.product_id == episode.product
        and alert.start_date <= episode.end + dt.timedelta(days=1)
        and alert.end_date >= episode.start - dt.timedelta(days=1)
    )


def market_move_days(wholesale: pd.DataFrame) -> set[tuple[int, dt.date]]:
    """(item, day) of every real wholesale move of ``BIG_MOVE`` or more from the item's previous day."""
    ordered = wholesale.sort_values("date")
    change = ordered.groupby("product_id")["price"].pct_change().abs()
    moves = ordered.loc[change >= BIG_MOVE, ["product_id", "date"]]
    return {(int(product), day.date()) for product, day in moves.itertuples(index=False)}


def near_market_move(alert: Alert, move_days: set[tuple[int, dt.date]]) -> bool:
    """Whether a market-wide move of the alert's item falls within its days, widened by 2 on each side."""
    span = (alert.end_date - alert.start_date).days + 1 + 2 * MOVE_MARGIN_DAYS
    first = alert.start_date - dt.timedelta(days=MOVE_MARGIN_DAYS)
    return any((alert.product_id, first + dt.timedelta(days=offset)) in move_days for offset in range(span))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sellers", type=int, default=6)
    parser.add_argument("--min-days", type=int, default=300, help="items with at least this many days")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url", default="", help="an empty database; default: a temporary SQLite file"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="folder with 附件1.xlsx and 附件3.xlsx"
    )
    parser.add_argument("--rules", type=Path, help="a rule file to use instead of the shipped one")
    parser.add_argument(
        "--retail-only", action="store_true", help="store no wholesale prices (retail median alone)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fairmarket-accuracy-") as workdir:
        return evaluate(args, Path(workdir))


def evaluate(args: argparse.Namespace, workdir: Path) -> int:
    """Simulate, store, detect every day in one call, score; 0 when all three goals are met."""
    rng = np.random.default_rng(args.seed)
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    engine = make_engine(url)
    upgrade_database(engine)
    settings = Settings(environment="test", data_dir=workdir, database_url=url)
    if args.rules:
        shutil.copy(args.rules, settings.data_dir / RULES_FILE.name)
    with session_factory(engine)() as session:
        wholesale = seed_catalogue(session, read_wholesale(args.data_dir, args.min_days), args.sellers)
        retail, episodes = simulate_retail(wholesale, args.sellers, rng)
        store(session, None if args.retail_only else wholesale[["date", "product_id", "price"]], retail)
        first, last = wholesale["date"].min().date(), wholesale["date"].max().date()
        began = time.perf_counter()
        command = [str(Path(sys.executable).with_name("fairmarket")), "detect", "--since", first.isoformat()]
        environment = {**os.environ, "FAIRMARKET_DATABASE_URL": url, "FAIRMARKET_DATA_DIR": str(workdir)}
        done = subprocess.run(
            [*command, "--until", last.isoformat()],
            env=environment,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        print(done.stdout.splitlines()[0])
        elapsed = time.perf_counter() - began
        session.expire_all()
        alerts = list(session.scalars(select(Alert)))

    daily_change = wholesale.sort_values("date").groupby("product_id")["price"].pct_change().abs()
    print(
        f"real wholesale: {wholesale['product_id'].nunique()} items, {len(wholesale)} item-days "
        f"{first}..{last}; 99th pct |daily change| {daily_change.quantile(0.99):.0%}"
    )
    print(
        f"simulated: {args.sellers} retailers/item, {len(retail)} retail prices, {len(episodes)} injected "
        f"episodes; one `fairmarket detect --since {first} --until {last}` in {elapsed:.1f} s"
    )

    alerts_of: dict[tuple[int | None, int | None], list[Alert]] = {}
    for alert in alerts:
        alerts_of.setdefault((alert.merchant_id, alert.product_id), []).append(alert)
    found = {
        episode: [
            alert
            for alert in alerts_of.get((episode.merchant, episode.product), [])
            if overlaps(alert, episode)
        ]
        for episode in episodes
    }
    detected = {episode: bool(matched) for episode, matched in found.items()}
    hit_ids = {alert.id for matched in found.values() for alert in matched}
    hits = [alert for alert in alerts if alert.id in hit_ids]
    false_alerts = [alert for alert in alerts if alert.id not in hit_ids]
    target = [
        episode
        for episode in episodes
        if episode.size >= TARGET_SIZE and (episode.end - episode.start).days + 1 >= TARGET_DAYS
    ]
    move_days = market_move_days(wholesale)
    around_moves = {alert.id for alert in false_alerts if near_market_move(alert, move_days)}
    print(
        f"market-wide moves (real wholesale price {BIG_MOVE:.0%} or more from the day before): "
        f"{len(move_days)} item-days (x {args.sellers} retailers)"
    )
    print(f"alerts: {len(alerts)}; on injected episodes {len(hits)}; on un-injected days {len(false_alerts)}")
    for rule in sorted({alert.rule_id for alert in alerts}):
        ruled = [alert for alert in alerts if alert.rule_id == rule]
        print(
            f"  {rule}: {len(ruled)} alerts, {sum(alert.id in hit_ids for alert in ruled)} on injected "
            f"episodes, {sum(alert.id in around_moves for alert in ruled)} false around market moves"
        )
    precision = len(hits) / max(len(alerts), 1)
    recall = sum(detected[episode] for episode in target) / max(len(target), 1)
    print(f"precision (all alerts): {precision:.3f}  (goal >= 0.9)")
    print(
        f"recall (episodes >= +{TARGET_SIZE:.0%} lasting >= {TARGET_DAYS} days, {len(target)}): "
        f"{recall:.3f}  (goal >= 0.9)"
    )
    print(f"false alerts within {MOVE_MARGIN_DAYS} days of a market-wide move: {len(around_moves)}  (goal 0)")
    print("recall by size (all lengths) / for lengths >= 3 days:")
    for size in SIZES:
        sized = [episode for episode in episodes if episode.size == size]
        longer = [episode for episode in sized if (episode.end - episode.start).days + 1 >= TARGET_DAYS]
        print(
            f"  +{size:.0%}: {sum(detected[e] for e in sized)}/{len(sized)}"
            f"  {sum(detected[e] for e in longer)}/{len(longer)}"
        )
    engine.dispose()
    return 0 if precision >= 0.9 and recall >= 0.9 and not around_moves else 1


if __name__ == "__main__":
    sys.exit(main())
