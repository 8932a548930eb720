"""Importing price rows (``date, product, price, unit`` + optional fields) through the shared write path.

Rows are matched to the catalogue, normalised to the good's standard unit and stored with
:func:`core.prices.store_observations` in batches, so a re-run adds nothing (natural key). A rejected row
is also quarantined with its reason; an unknown product name is recorded for staff to map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.catalogue import ProductMatcher
from core.prices import (
    AVAILABILITIES,
    PRICE_TYPES,
    PriceInput,
    quarantine,
    record_unmapped,
    store_observations,
)
from core.units import UnitError, normalise_price
from importing import DEFAULT_SOURCE
from importing.batches import feed_batches
from importing.fields import (
    FieldError,
    ImportSummary,
    optional_money,
    parse_datetime,
    parse_money,
    text_value,
)
from importing.readers import BadRow, Row

BATCH_SIZE = 1000


class UnknownProduct(FieldError):
    """The product name matches no catalogue good."""


# Column names accepted for each field: ours first, then Chinese headers and Xinfadi's JSON keys
# (lower-cased by the reader), so a saved Xinfadi response converted to JSONL imports as it is.
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "日期", "pubdate"),
    "product": ("product", "商品", "品名", "prodname"),
    "price": ("price", "价格", "avgprice"),
    "unit": ("unit", "单位", "计量单位", "unitinfo"),
    "spec": ("spec", "规格", "specinfo"),
    "low_price": ("low_price", "最低价", "lowprice"),
    "high_price": ("high_price", "最高价", "highprice"),
    "merchant": ("merchant", "商户", "商家"),
    "region": ("region", "地区"),
    "source": ("source", "来源"),
    "price_type": ("price_type",),
    "availability": ("availability",),
}


def canonical_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row under our field names (the first non-empty alias wins)."""
    result: dict[str, Any] = {}
    for field, names in COLUMNS.items():
        for name in names:
            if text_value(row, name) is not None:
                result[field] = row[name]
                break
    return result


def price_input(
    row: dict[str, Any], matcher: ProductMatcher, default_source: str, default_price_type: str = "retail"
) -> PriceInput:
    """Build a normalised observation from one row, or raise :class:`FieldError` saying what is wrong."""
    row = canonical_row(row)
    observed_at = parse_datetime(text_value(row, "date", required=True), "date")
    name = text_value(row, "product", required=True)
    price = parse_money(text_value(row, "price", required=True), "price")
    if price == 0:
        raise FieldError("price 必须大于零 (price must be positive)")
    unit = text_value(row, "unit", required=True)
    assert name is not None and unit is not None
    low_price, high_price = optional_money(row, "low_price"), optional_money(row, "high_price")
    price_type = text_value(row, "price_type") or default_price_type
    if price_type not in PRICE_TYPES:
        raise FieldError(f"price_type 只能是 {'/'.join(PRICE_TYPES)}：{price_type}")
    availability = text_value(row, "availability")
    if availability is not None and availability not in AVAILABILITIES:
        raise FieldError(f"availability 只能是 {'/'.join(AVAILABILITIES)}：{availability}")
    product = matcher.match(name)
    if product is None:
        raise UnknownProduct(f"未收录的商品：“{name}”，已记录待映射 (unknown product, recorded for mapping)")
    spec = text_value(row, "spec")
    try:
        normalised = normalise_price(price, unit, spec, product.standard_unit)
    except UnitError as exc:
        raise FieldError(str(exc)) from exc
    return PriceInput(
        source=text_value(row, "source") or default_source,
        product_id=product.id,
        merchant=text_value(row, "merchant"),
        region=text_value(row, "region") or "",
        observed_at=observed_at,
        price=price,
        low_price=low_price,
        high_price=high_price,
        raw_unit=unit[:30],
        spec=spec[:80] if spec else None,
        unit_price=normalised.unit_price,
        standard_unit=normalised.standard_unit,
        price_type=price_type,
        availability=availability,
        extractor="import",
    )


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in row.items()}


def import_prices(
    session: Session,
    rows: Iterable[Row | BadRow],
    *,
    source: str = DEFAULT_SOURCE,
    price_type: str = "retail",
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import price rows, committing every ``batch_size`` rows; returns what happened to them.

    ``source`` and ``price_type`` apply to rows that do not name their own.
    """
    matcher = ProductMatcher.from_session(session)

    def prepare(row: Row) -> PriceInput:
        return price_input(row.data, matcher, source, price_type)

    def store(batch: list[PriceInput], summary: ImportSummary) -> None:
        stored, duplicates = store_observations(session, batch)
        summary.imported += stored
        summary.skipped += duplicates

    def keep_rejected(row: Row, exc: FieldError, summary: ImportSummary) -> None:
        """An unknown product is recorded for mapping, any other rejected row quarantined with its reason."""
        fields = canonical_row(row.data)
        row_source = text_value(fields, "source") or source
        raw = {"line": row.line, "row": _json_row(row.data)}
        if isinstance(exc, UnknownProduct):
            summary.unmapped += 1
            record_unmapped(session, row_source, str(fields.get("product", "")), raw)
        else:
            quarantine(session, row_source, str(exc), raw["row"])

    return feed_batches(
        session,
        rows,
        prepare=prepare,
        store=store,
        batch_size=batch_size,
        on_reject=keep_rejected,
        on_batch=on_batch,
    )
