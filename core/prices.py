"""Storing price observations: the one write path shared by the Scrapy pipeline and the price importer.

It also keeps ``price_daily_aggregates`` (per good, price type, region and day), in the same
transaction, so public price series never have to read every observation.

Every write is idempotent. An observation's natural key (the source's own record id when it gives one,
else source, merchant, product, region, variant and time) makes re-crawling or re-importing a no-op;
quarantined items are keyed by a fingerprint of their raw content. Inserts use ``ON CONFLICT DO NOTHING``
/ ``DO UPDATE``, which SQLite and PostgreSQL both understand, so concurrent crawlers cannot race each
other into errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.models import (
    Base,
    Merchant,
    PriceObservation,
    QuarantinedItem,
    utcnow,
)
from core.units import STANDARD_UNITS

StoreResult = Literal["stored", "duplicate"]
PRICE_TYPES = ("retail", "wholesale")
AVAILABILITIES = ("in_stock", "out_of_stock", "limited")


@dataclass
class PriceInput:
    """One price as a source reported it, already mapped to a catalogue good and normalised."""

    source: str
    product_id: int
    observed_at: dt.datetime | dt.date
    price: Decimal | float
    raw_unit: str
    unit_price: float
    standard_unit: str
    merchant: str | None = None
    region: str = ""
    low_price: Decimal | float | None = None
    high_price: Decimal | float | None = None
    origin: str = ""
    spec: str | None = None
    package: str = ""
    source_name: str = ""  # what the source called the good
    source_record_id: str | None = None
    price_type: str = "retail"
    availability: str | None = None
    url: str | None = None
    fetched_at: dt.datetime = field(default_factory=utcnow)
    spider: str | None = None
    extractor: str | None = None
    raw_hash: str | None = None


def _as_utc_naive(moment: dt.datetime | dt.date) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        return dt.datetime.combine(moment, dt.time())
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def price_natural_key(
    source: str,
    merchant_name: str | None,
    product_id: int,
    region: str | None,
    observed_at: dt.datetime | dt.date,
    *,
    origin: str | None = None,
    spec: str | None = None,
    package: str | None = None,
    source_name: str | None = None,
    source_record_id: str | None = None,
) -> str:
    """The identity of an observation: the same price seen twice hashes alike (sha256 hex).

    A source's own record id identifies its record alone (a repeated Xinfadi ``id`` is the same quote);
    otherwise the variant (origin, spec, package, the source's name) tells apart the several quotes of
    one good on one day.
    Without a variant the key is the one observations had before variants were stored.
    """
    if source_record_id:
        parts = [source.strip(), "#", source_record_id.strip()]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    parts = [source.strip(), (merchant_name or "").strip(), str(product_id), (region or "").strip()]
    parts.append(_as_utc_naive(observed_at).isoformat())
    variant = [(value or "").strip() for value in (origin, spec, package, source_name)]
    if any(variant):
        parts.extend(variant)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def legacy_content_key(
    source: str,
    merchant_name: str | None,
    product_id: int,
    region: str | None,
    observed_at: dt.datetime | dt.date,
    spec: str | None,
    price: Decimal | float,
) -> str:
    """What a row stored before variants were part of the identity holds, hashed (migration 0011).

    The old key lacked the variant and the source's record id, and old rows never kept them, so a
    re-crawl or re-import finds its old row by this content instead; the migration hashes it alike.
    """
    parts = [source.strip(), (merchant_name or "").strip(), str(product_id), (region or "").strip()]
    parts += [_as_utc_naive(observed_at).isoformat(), (spec or "").strip(), f"{float(price):.4f}"]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _insert(session: Session, model: type[Base]) -> Any:
    """A dialect-specific INSERT of ``model``'s table with ``on_conflict_do_nothing``/``do_update``."""
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def get_or_create_merchant(session: Session, name: str, **attrs: Any) -> Merchant:
    """The merchant called ``name``; created with ``attrs`` if new (existing details are kept)."""
    name = name.strip()
    if not name:
        raise ValueError("merchant name must not be empty")
    merchant = session.scalar(select(Merchant).where(Merchant.name == name))
    if merchant is not None:
        return merchant
    session.execute(_insert(session, Merchant).values(name=name, **attrs).on_conflict_do_nothing())
    merchant = session.scalar(select(Merchant).where(Merchant.name == name))
    assert merchant is not None
    return merchant


def merchant_ids_by_name(session: Session, names: set[str]) -> dict[str, int]:
    """The ids of the merchants called ``names`` (as given, before stripping); missing ones are created.

    One query for the whole batch (and one insert for the new ones) rather than one per merchant.
    """
    stripped = {name: name.strip() for name in names}
    if any(not name for name in stripped.values()):
        raise ValueError("merchant name must not be empty")
    wanted = set(stripped.values())
    if not wanted:
        return {}
    lookup = select(Merchant.name, Merchant.id).where(Merchant.name.in_(wanted))
    found: dict[str, int] = dict(session.execute(lookup).all())
    missing = sorted(wanted - found.keys())
    if missing:
        insert = _insert(session, Merchant).on_conflict_do_nothing(index_elements=["name"])
        session.execute(insert, [{"name": name} for name in missing])
        found = dict(session.execute(lookup).all())
    return {name: found[plain] for name, plain in stripped.items()}


def _check(obs: PriceInput) -> None:
    if float(obs.price) < 0:
        raise ValueError(f"price must not be negative: {obs.price}")
    if not math.isfinite(obs.unit_price) or obs.unit_price < 0:
        raise ValueError(f"unit price must be a non-negative number: {obs.unit_price}")
    if obs.standard_unit not in STANDARD_UNITS:
        raise ValueError(f"unknown standard unit {obs.standard_unit!r}")
    if obs.price_type not in PRICE_TYPES:
        raise ValueError(f"price_type must be one of {PRICE_TYPES}, not {obs.price_type!r}")
    if obs.availability is not None and obs.availability not in AVAILABILITIES:
        raise ValueError(f"availability must be one of {AVAILABILITIES}, not {obs.availability!r}")


def _decimal(value: Decimal | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _row(obs: PriceInput, merchant_id: int | None) -> dict[str, Any]:
    observed_at = _as_utc_naive(obs.observed_at)
    return {
        "natural_key": price_natural_key(
            obs.source,
            obs.merchant,
            obs.product_id,
            obs.region,
            observed_at,
            origin=obs.origin,
            spec=obs.spec,
            package=obs.package,
            source_name=obs.source_name,
            source_record_id=obs.source_record_id,
        ),
        "source": obs.source,
        "merchant_id": merchant_id,
        "product_id": obs.product_id,
        "region": obs.region or "",
        "observed_at": observed_at,
        "observed_date": observed_at.date(),
        "price": _decimal(obs.price),
        "low_price": _decimal(obs.low_price),
        "high_price": _decimal(obs.high_price),
        "raw_unit": obs.raw_unit,
        "origin": (obs.origin or "")[:60],
        "spec": obs.spec,
        "package": (obs.package or "")[:40],
        "source_name": (obs.source_name or "")[:80],
        "source_record_id": obs.source_record_id[:80] if obs.source_record_id else None,
        "unit_price": float(obs.unit_price),
        "standard_unit": obs.standard_unit,
        "price_type": obs.price_type,
        "availability": obs.availability,
        "url": obs.url,
        "fetched_at": _as_utc_naive(obs.fetched_at),
        "spider": obs.spider,
        "extractor": obs.extractor,
        "raw_hash": obs.raw_hash,
    }


def store_observations(session: Session, observations: Iterable[PriceInput]) -> tuple[int, int]:
    """Store many observations in one statement; return (stored, duplicates). The caller commits.

    Raises ``ValueError`` for an invalid observation before anything is written.
    """
    batch = list(observations)
    for obs in batch:
        _check(obs)
    merchant_ids = merchant_ids_by_name(session, {obs.merchant for obs in batch if obs.merchant})
    rows = [_row(obs, merchant_ids[obs.merchant] if obs.merchant else None) for obs in batch]
    if not rows:
        return 0, 0
    new_rows = _rekey_legacy_rows(session, batch, rows) if _has_legacy_rows(session) else rows
    unique_rows = list({row["natural_key"]: row for row in new_rows}.values())
    if not unique_rows:
        return 0, len(rows)
    statement = (
        _insert(session, PriceObservation)
        .on_conflict_do_nothing(index_elements=["natural_key"])
        .returning(PriceObservation.natural_key)
    )
    stored_keys = set(session.execute(statement, unique_rows).scalars())
    add_to_daily_aggregates(session, [row for row in unique_rows if row["natural_key"] in stored_keys])
    return len(stored_keys), len(rows) - len(stored_keys)


def _has_legacy_rows(session: Session) -> bool:
    """Whether rows from before variant identities still wait to be seen again (one indexed probe)."""
    probe = select(PriceObservation.id).where(PriceObservation.legacy_key.is_not(None)).limit(1)
    return session.execute(probe).first() is not None


def _rekey_legacy_rows(
    session: Session, batch: list[PriceInput], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows that are not an old row seen again; old rows met are re-keyed to the new identity.

    An old row (``legacy_key``, migration 0011) holds the same price as the first observation of the
    batch with the same content: it takes that observation's key, variant, name and record id (unless
    another row has that key already) and nothing is inserted for it, so its daily aggregate stays right.
    """
    keys = [
        legacy_content_key(
            obs.source, obs.merchant, obs.product_id, obs.region, obs.observed_at, obs.spec, obs.price
        )
        for obs in batch
    ]
    found = dict(
        session.execute(
            select(PriceObservation.legacy_key, PriceObservation.id).where(
                PriceObservation.legacy_key.in_(set(keys))
            )
        ).all()
    )
    if not found:
        return rows
    claims: dict[str, dict[str, Any]] = {}
    for key, row in zip(keys, rows, strict=True):
        if key in found:
            claims.setdefault(key, row)
    taken = set(
        session.scalars(
            select(PriceObservation.natural_key).where(
                PriceObservation.natural_key.in_([row["natural_key"] for row in claims.values()])
            )
        )
    )
    fields = ("natural_key", "origin", "spec", "package", "source_name", "source_record_id", "region")
    for key, row in claims.items():
        values: dict[str, Any] = {"legacy_key": None}
        if row["natural_key"] not in taken:
            values |= {name: row[name] for name in fields}
            taken.add(row["natural_key"])
        session.execute(update(PriceObservation).where(PriceObservation.id == found[key]).values(**values))
    return [row for key, row in zip(keys, rows, strict=True) if key not in found]


def add_to_daily_aggregates(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Add newly stored observation rows to ``price_daily_aggregates``, in the caller's transaction.

    Each day's row is updated in place (``ON CONFLICT DO UPDATE`` adds to what is there), so writers
    storing prices of the same day at once both count. Non-positive prices are no prices and left out,
    as the price aggregates leave them out.
    """
    days: dict[tuple[int, str, str, dt.date], list[float]] = defaultdict(list)
    for row in rows:
        if row["unit_price"] > 0:
            key = (row["product_id"], row["price_type"], row["region"], row["observed_date"])
            days[key].append(row["unit_price"])
    if not days:
        return
    sqlite_dialect = session.get_bind().dialect.name == "sqlite"
    values = [
        (
            product_id,
            price_type,
            region,
            day.isoformat() if sqlite_dialect else day,
            len(prices),
            math.fsum(prices),
            min(prices),
            max(prices),
            ",".join(map(repr, prices)),
        )
        for (product_id, price_type, region, day), prices in sorted(days.items())
    ]
    # Straight to the driver's executemany: SQLAlchemy's per-row parameter processing cost as much as the
    # upserts themselves (the values are plain ints, floats, text and ISO dates as SQLite stores them).
    statement = _DAILY_UPSERT.format(
        placeholder="?" if sqlite_dialect else "%s",
        smaller="min" if sqlite_dialect else "least",
        larger="max" if sqlite_dialect else "greatest",
    )
    session.connection().exec_driver_sql(statement, values)


_DAILY_UPSERT = """
INSERT INTO price_daily_aggregates
    (product_id, price_type, region, observed_date, "count", total, low, high, prices)
VALUES ({placeholder}, {placeholder}, {placeholder}, {placeholder}, {placeholder}, {placeholder},
        {placeholder}, {placeholder}, {placeholder})
ON CONFLICT (product_id, price_type, region, observed_date) DO UPDATE SET
    "count" = price_daily_aggregates."count" + excluded."count",
    total = price_daily_aggregates.total + excluded.total,
    low = {smaller}(price_daily_aggregates.low, excluded.low),
    high = {larger}(price_daily_aggregates.high, excluded.high),
    prices = price_daily_aggregates.prices || ',' || excluded.prices
"""


def store_observation(session: Session, obs: PriceInput) -> StoreResult:
    """Store one observation unless its natural key is already there. The caller commits."""
    stored, _ = store_observations(session, [obs])
    return "stored" if stored else "duplicate"


def _json_safe(raw: Any) -> Any:
    return json.loads(json.dumps(raw, ensure_ascii=False, default=str))


def raw_fingerprint(source: str, raw: Any) -> str:
    canonical = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(f"{source}\x1f{canonical}".encode()).hexdigest()


def quarantine(session: Session, source: str, reason: str, raw: Any, url: str | None = None) -> None:
    """Keep an item that failed validation, with its reason; the same raw item is kept only once."""
    values = {
        "source": source,
        "reason": reason[:300],
        "raw": _json_safe(raw if isinstance(raw, dict) else {"value": raw}),
        "url": url[:500] if url else None,
        "fingerprint": raw_fingerprint(source, raw),
    }
    session.execute(_insert(session, QuarantinedItem).values(**values).on_conflict_do_nothing())
