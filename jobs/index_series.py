"""Published price index series: computed once over all history, kept in the database, extended as days
arrive, and sliced (never rebased) for every window a reader asks for.

A series is one index (a category or a basket of goods), region (or all regions), price type and method.
Its stored values carry the data they were computed from (the newest observation id and the row count of
its goods). When newer prices arrive, only the days from the earliest day they touch are computed again,
and never days older than the splice window of the newest day: those values are final. Days within that
window are *provisional* (late prices for them still revise them). The chained Jevons alternative has no
window: it is computed again from its first day whenever its data change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import ColumnElement, delete, func, insert, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from analysis.baskets import BASKETS_FILE, Basket, BasketError, parse_baskets
from analysis.price_index import (
    WINDOW_DAYS,
    Splice,
    item_keys,
    price_index_basket,
    price_index_geks,
    price_index_jevons,
)
from core.clock import utcnow
from core.models import Category, PriceIndexSeries, PriceIndexValue, PriceObservation, Product
from core.price_reads import read_observations

log = logging.getLogger(__name__)

Kind = Literal["basket", "category"]
Method = Literal["geks_jevons", "chained_jevons"]
METHODS: tuple[Method, ...] = ("geks_jevons", "chained_jevons")
DEFAULT_METHOD: Method = "geks_jevons"
SPLICE: Splice = "mean"
#: Changes whenever the computation changes, so stored series made by an older one are recomputed.
ALGORITHM_VERSION = 3
FIRST_DAY = dt.date(1, 1, 1)
#: A basket day needs goods carrying half its weight priced.
BASKET_MIN_WEIGHT_SHARE = 0.5


@dataclass(frozen=True)
class IndexSpec:
    """What a series is of: a category's goods (equal item weights) or a basket (weights per good code)."""

    kind: Kind
    code: str
    product_codes: Mapping[int, str]
    weights: Mapping[str, float] | None
    region: str | None
    price_type: str
    method: Method = DEFAULT_METHOD

    @property
    def series_key(self) -> str:
        region = "*" if self.region is None else f"={self.region}"
        return f"{self.kind}:{self.code}|{region}|{self.price_type}|{self.method}"

    @property
    def subject_hash(self) -> str:
        document = {
            "products": sorted(self.product_codes),
            "weights": sorted((self.weights or {}).items()),
            "window": WINDOW_DAYS,
            "splice": SPLICE,
            "version": ALGORITHM_VERSION,
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()

    @property
    def window_days(self) -> int | None:
        return WINDOW_DAYS if self.method == "geks_jevons" else None


@dataclass(frozen=True)
class PublishedIndex:
    """A slice of a published series and what it is: base, method, window, provisional days."""

    base_date: dt.date | None
    method: Method
    window_days: int | None
    splice: str | None
    provisional_from: dt.date | None
    values: pd.DataFrame  # date (datetime64), index, matched, priced


@dataclass(frozen=True)
class _DataState:
    max_id: int
    count: int
    latest: dt.date | None


def _filters(spec: IndexSpec) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        PriceObservation.product_id.in_(list(spec.product_codes)),
        PriceObservation.price_type == spec.price_type,
    ]
    if spec.region is not None:
        clauses.append(PriceObservation.region == spec.region)
    return clauses


def _data_state(session: Session, spec: IndexSpec) -> _DataState:
    if not spec.product_codes:
        return _DataState(0, 0, None)
    row = session.execute(
        select(
            func.max(PriceObservation.id),
            func.count(PriceObservation.id),
            func.max(PriceObservation.observed_date),
        ).where(*_filters(spec))
    ).one()
    return _DataState(int(row[0] or 0), int(row[1] or 0), row[2])


def _earliest_day(session: Session, spec: IndexSpec, *, after_id: int = 0) -> dt.date | None:
    return session.scalar(
        select(func.min(PriceObservation.observed_date)).where(
            *_filters(spec), PriceObservation.id > after_id
        )
    )


def _appended(session: Session, spec: IndexSpec, after_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(PriceObservation.id)).where(*_filters(spec), PriceObservation.id > after_id)
        )
        or 0
    )


def provisional_start(
    latest: dt.date | None, window_days: int | None, base: dt.date | None
) -> dt.date | None:
    """First day still open to revision: the splice window of the newest day (every day without one)."""
    if latest is None:
        return None
    if window_days is None:
        return base
    return latest - dt.timedelta(days=window_days - 1)


def _compute(
    session: Session, spec: IndexSpec, since: dt.date | None, state: _DataState, series_id: int | None
) -> pd.DataFrame:
    """The series' values from ``since`` on (every day when None), anchored on stored earlier values."""
    assert state.latest is not None
    codes = spec.product_codes
    if spec.method == "chained_jevons":
        rows = read_observations(
            session,
            product_ids=codes,
            start=FIRST_DAY,
            end=state.latest,
            price_type=spec.price_type,
            region=spec.region,
            variants=True,
        )
        items = item_keys(rows)
        if spec.weights is None:
            return price_index_jevons(rows, items=items)[["date", "index", "matched", "priced"]]
        per_good = price_index_jevons(rows, by=("product_id",), items=items)
        basket = price_index_basket(
            per_good.assign(component=per_good["product_id"].map(codes)), spec.weights
        )
        return pd.DataFrame(
            {"date": basket["date"], "index": basket["index"], "matched": basket["components"], "priced": 0}
        )
    weights = None
    if spec.weights is not None:
        weights = {
            product_id: spec.weights[code] for product_id, code in codes.items() if code in spec.weights
        }
    first_read = FIRST_DAY if since is None else since - dt.timedelta(days=2 * WINDOW_DAYS)
    rows = read_observations(
        session,
        product_ids=codes,
        start=first_read,
        end=state.latest,
        price_type=spec.price_type,
        region=spec.region,
        variants=True,
    )
    published = None
    if since is not None and series_id is not None:
        stored = session.execute(
            select(PriceIndexValue.date, PriceIndexValue.value).where(
                PriceIndexValue.series_id == series_id,
                PriceIndexValue.date >= since - dt.timedelta(days=WINDOW_DAYS),
                PriceIndexValue.date < since,
            )
        ).all()
        published = pd.DataFrame(
            {
                "date": pd.to_datetime([row.date for row in stored]),
                "index": np.array(
                    [np.nan if row.value is None else row.value for row in stored], dtype="float64"
                ),
            }
        )
    result = price_index_geks(
        rows,
        window_days=WINDOW_DAYS,
        splice=SPLICE,
        weights=weights,
        published=published,
        since=None if since is None else pd.Timestamp(since),
        min_weight_share=BASKET_MIN_WEIGHT_SHARE,
    )
    return result[["date", "index", "matched", "priced"]]


def refresh_series(session: Session, spec: IndexSpec) -> PriceIndexSeries | None:
    """Bring the stored series of ``spec`` up to date with the prices and return it (None: no prices).

    Commits its own writes. Two processes refreshing at once both compute; the second write loses
    and is rolled back (its answer was the same).
    """
    return _refresh(session, spec)[0]


def _refresh(session: Session, spec: IndexSpec) -> tuple[PriceIndexSeries | None, int]:
    """:func:`refresh_series`, and how many days it computed (0: the stored series was current)."""
    state = _data_state(session, spec)
    series = session.scalar(select(PriceIndexSeries).where(PriceIndexSeries.series_key == spec.series_key))
    if state.latest is None:
        return series, 0
    if (
        series is not None
        and series.subject_hash == spec.subject_hash
        and (series.observations_max_id, series.observations_count) == (state.max_id, state.count)
    ):
        return series, 0
    since = _first_day_to_compute(session, spec, series, state)
    values = _compute(session, spec, since, state, None if series is None else series.id)
    try:
        if series is None:
            series = PriceIndexSeries(
                series_key=spec.series_key,
                kind=spec.kind,
                code=spec.code,
                region=spec.region,
                price_type=spec.price_type,
                method=spec.method,
                window_days=spec.window_days,
                splice=SPLICE if spec.method == "geks_jevons" else None,
                subject_hash=spec.subject_hash,
            )
            session.add(series)
            session.flush()
        statement = delete(PriceIndexValue).where(PriceIndexValue.series_id == series.id)
        if since is not None:
            statement = statement.where(PriceIndexValue.date >= since)
        session.execute(statement)
        records = [
            {
                "series_id": series.id,
                "date": day.date(),
                "value": None if not np.isfinite(value) else float(value),
                "matched": int(matched),
                "priced": int(priced),
            }
            for day, value, matched, priced in zip(
                pd.to_datetime(values["date"]),
                values["index"],
                values["matched"],
                values["priced"],
                strict=True,
            )
        ]
        if records:
            session.execute(insert(PriceIndexValue), records)
        if since is None:
            series.base_date = records[0]["date"] if records else None
        series.subject_hash = spec.subject_hash
        series.observations_max_id, series.observations_count = state.max_id, state.count
        series.computed_at = utcnow()
        session.commit()
    except (IntegrityError, DBAPIError) as exc:
        session.rollback()
        log.info("index series %s was written by another process: %s", spec.series_key, exc)
        series = session.scalar(
            select(PriceIndexSeries).where(PriceIndexSeries.series_key == spec.series_key)
        )
    return series, len(values)


def _first_day_to_compute(
    session: Session, spec: IndexSpec, series: PriceIndexSeries | None, state: _DataState
) -> dt.date | None:
    """None (every day) for a new or changed series; else the earliest touched provisional day."""
    if series is None or series.subject_hash != spec.subject_hash or series.base_date is None:
        return None
    if spec.method == "chained_jevons":
        return None
    opened = provisional_start(state.latest, spec.window_days, series.base_date)
    assert opened is not None
    appended = _appended(session, spec, series.observations_max_id)
    touched = _earliest_day(session, spec, after_id=series.observations_max_id) if appended else None
    if series.observations_count + appended != state.count or touched is None:
        touched = opened  # rows moved or removed (a merge of goods): revise the provisional days
    since = max(touched, opened)
    return None if since <= series.base_date else since


def published_index(session: Session, spec: IndexSpec, *, start: dt.date, end: dt.date) -> PublishedIndex:
    """The published series of ``spec`` on ``start``..``end``: stored values, refreshed first if stale."""
    series = refresh_series(session, spec)
    empty = pd.DataFrame(
        {
            "date": pd.Series(dtype="datetime64[ns]"),
            "index": pd.Series(dtype="float64"),
            "matched": pd.Series(dtype="int64"),
            "priced": pd.Series(dtype="int64"),
        }
    )
    splice = SPLICE if spec.method == "geks_jevons" else None
    if series is None:
        return PublishedIndex(None, spec.method, spec.window_days, splice, None, empty)
    rows = session.execute(
        select(PriceIndexValue.date, PriceIndexValue.value, PriceIndexValue.matched, PriceIndexValue.priced)
        .where(
            PriceIndexValue.series_id == series.id,
            PriceIndexValue.date >= start,
            PriceIndexValue.date <= end,
        )
        .order_by(PriceIndexValue.date)
    ).all()
    latest = session.scalar(
        select(func.max(PriceIndexValue.date)).where(PriceIndexValue.series_id == series.id)
    )
    values = pd.DataFrame(
        {
            "date": pd.to_datetime([row.date for row in rows]).astype("datetime64[ns]"),
            "index": np.array([np.nan if row.value is None else row.value for row in rows], dtype="float64"),
            "matched": np.array([row.matched for row in rows], dtype="int64"),
            "priced": np.array([row.priced for row in rows], dtype="int64"),
        }
    )
    return PublishedIndex(
        base_date=series.base_date,
        method=spec.method,
        window_days=spec.window_days,
        splice=splice,
        provisional_from=provisional_start(latest, spec.window_days, series.base_date),
        values=values if rows else empty,
    )


# --- keeping the published series up to date --------------------------------------------------------

#: Price types a category or basket series is published for (where it has prices).
PRICE_TYPES = ("retail", "wholesale")


def category_goods(session: Session, category: Category) -> dict[int, str]:
    """The goods of a category and of its sub-categories, by id: what its index covers."""
    rows = session.execute(
        select(Product.id, Product.code)
        .join(Product.category)
        .where(or_(Category.id == category.id, Category.parent_id == category.id))
    )
    return {product_id: code for product_id, code in rows}


def basket_goods(session: Session, basket: Basket) -> dict[int, str]:
    """The catalogue goods a basket weighs, by id (codes the catalogue lacks are left out)."""
    rows = session.execute(select(Product.id, Product.code).where(Product.code.in_(list(basket.weights))))
    return {product_id: code for product_id, code in rows}


def published_specs(session: Session, baskets: Mapping[str, Basket]) -> list[IndexSpec]:
    """The series kept up to date without a reader waiting: every category and every basket over all
    regions for each price type, and every other series a reader has asked for since (a city, the
    chained method). Subjects that no longer exist are left out."""
    categories = {category.code: category for category in session.scalars(select(Category))}
    goods: dict[tuple[str, str], dict[int, str]] = {}
    weights: dict[str, Mapping[str, float]] = {}
    for category in categories.values():
        goods["category", category.code] = category_goods(session, category)
    for code, basket in baskets.items():
        goods["basket", code] = basket_goods(session, basket)
        weights[code] = basket.weights
    wanted = {
        (kind, code, None, price_type, DEFAULT_METHOD) for kind, code in goods for price_type in PRICE_TYPES
    }
    stored = session.execute(
        select(
            PriceIndexSeries.kind,
            PriceIndexSeries.code,
            PriceIndexSeries.region,
            PriceIndexSeries.price_type,
            PriceIndexSeries.method,
        )
    ).all()
    wanted |= {
        (row.kind, row.code, row.region, row.price_type, row.method)
        for row in stored
        if (row.kind, row.code) in goods and row.method in METHODS
    }
    return [
        IndexSpec(
            kind=cast(Kind, kind),
            code=code,
            product_codes=goods[kind, code],
            weights=weights.get(code) if kind == "basket" else None,
            region=region,
            price_type=price_type,
            method=method,
        )
        for kind, code, region, price_type, method in sorted(wanted, key=lambda key: tuple(map(str, key)))
        if goods[kind, code]
    ]


@dataclass(frozen=True)
class PublishRun:
    """What one pass over the published series did."""

    series: int  # series with prices
    refreshed: int  # of those, how many had new prices and were computed (again)
    days: int  # days (re)computed over all refreshed series


def publish_indices(session: Session, baskets: Mapping[str, Basket]) -> PublishRun:
    """Bring every kept series (:func:`published_specs`) up to date with the prices: only the days from
    the earliest day new prices touch (never older than the splice window) are computed, so a pass
    after a day's crawl costs one day per series. Readers then only slice stored rows."""
    series = refreshed = days = 0
    for spec in published_specs(session, baskets):
        stored, computed = _refresh(session, spec)
        if stored is None:
            continue
        series += 1
        if computed:
            refreshed += 1
            days += computed
    return PublishRun(series, refreshed, days)


def publish_all(session: Session, data_dir: Path) -> PublishRun:
    """:func:`publish_indices` with the configured baskets; a broken basket file leaves the baskets out
    (logged) rather than the categories too."""
    try:
        baskets = configured_baskets(data_dir)
    except (OSError, BasketError) as exc:
        log.error("basket file unusable, publishing category indices only: %s", exc)
        baskets = {}
    return publish_indices(session, baskets)


def configured_baskets(data_dir: Path) -> dict[str, Basket]:
    """The deployment's ``basket.yaml`` in ``data_dir`` when there is one, else the shipped baskets.

    Raises :class:`analysis.baskets.BasketError` (or an OS / YAML error) for a file that cannot be used.
    """
    deployment = data_dir / BASKETS_FILE.name
    path = deployment if deployment.is_file() else BASKETS_FILE
    try:
        return parse_baskets(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise BasketError(f"{path}: {exc}") from exc
