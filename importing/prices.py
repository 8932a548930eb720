"""Importing price rows (``date, product, price, unit`` + optional fields) through the shared write path.

Rows are matched to the catalogue, normalised to the good's standard unit and stored with
:func:`core.prices.store_observations` in batches, so a re-run adds nothing (natural key). A name no good
claims is stored under a provisional good (待归类) in the row's category; only malformed rows are
rejected, each quarantined with its reason. Xinfadi's rows import as the site gives them: JSON objects,
a JSON array or API page, or its 20 fields in order without a header line (:data:`XINFADI_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.prices import AVAILABILITIES, PRICE_TYPES, PriceInput, quarantine, store_observations
from core.provisional import GoodsResolver
from core.units import UnitError, normalise_named_price
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
from importing.readers import BadRow, ReadOptions, Row

BATCH_SIZE = 1000
TWO = Decimal(2)

# Column names accepted for each field: ours first, then Chinese headers and Xinfadi's JSON keys
# (lower-cased by the reader), so a saved Xinfadi response imports as it is.
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "日期", "pubdate"),
    "product": ("product", "商品", "品名", "商品名称", "prodname"),
    "price": ("price", "价格", "均价", "avgprice"),
    "unit": ("unit", "单位", "计量单位", "unitinfo"),
    "spec": ("spec", "规格", "specinfo"),
    "origin": ("origin", "产地", "place"),
    "package": ("package", "包装"),
    "category": ("category", "分类", "类别", "分类名称", "prodpcat"),
    "broad_category": ("prodcat",),  # Xinfadi's top level (蔬菜), used when prodPcat names none
    "record_id": ("record_id", "id", "编号"),
    "low_price": ("low_price", "最低价", "lowprice"),
    "high_price": ("high_price", "最高价", "highprice"),
    "merchant": ("merchant", "商户", "商家"),
    "region": ("region", "地区"),
    "source": ("source", "来源"),
    "price_type": ("price_type",),
    "availability": ("availability",),
}
KNOWN_COLUMNS = frozenset(name for names in COLUMNS.values() for name in names)
# Xinfadi's getPriceData.html row, field by field in the site's order (low, HIGH, avg), as scrapes
# save it without a header line; the last seven are the site's bookkeeping.
XINFADI_FIELDS = (
    "id",
    "prodName",
    "prodCatid",
    "prodCat",
    "prodPcatid",
    "prodPcat",
    "lowPrice",
    "highPrice",
    "avgPrice",
    "place",
    "specInfo",
    "unitInfo",
    "pubDate",
    "status",
    "userIdCreate",
    "userIdModified",
    "userCreate",
    "userModified",
    "gmtCreate",
    "gmtModified",
)
HEADERLESS_FIELDS: dict[str, tuple[str, ...]] = {"xinfadi": XINFADI_FIELDS}


def read_options(source: str, columns: dict[str, str] | None = None) -> ReadOptions:
    """How to read a price file of ``source``: ``--column`` mappings, its header-less field order."""
    return ReadOptions(columns=columns, headerless=HEADERLESS_FIELDS.get(source), known_columns=KNOWN_COLUMNS)


# Each accepted column name → (field, rank among the field's names); a row is read by its own columns.
_FIELD_OF_COLUMN: dict[str, tuple[str, int]] = {
    name: (field, rank) for field, names in COLUMNS.items() for rank, name in enumerate(names)
}


def canonical_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row under our field names (the first non-empty alias wins). On every row: kept lean.

    Walks the row's few columns rather than every accepted name of every field.
    """
    result: dict[str, Any] = {}
    ranks: dict[str, int] = {}
    for name, value in row.items():
        known = _FIELD_OF_COLUMN.get(name)
        if known is None or value is None or not (value if isinstance(value, str) else str(value)).strip():
            continue
        field, rank = known
        if rank < ranks.get(field, len(COLUMNS[field])):
            result[field] = value
            ranks[field] = rank
    return result


def _prices(row: dict[str, Any]) -> tuple[Decimal, Decimal | None, Decimal | None]:
    """(price, low, high); a row with only a range stands for its midpoint, as Xinfadi's avgPrice does.

    A range printed the wrong way round (low > high) is malformed (which figure is wrong cannot be told) and
    refused, as the crawler quarantines it; so is a price outside its range.
    """
    low_price, high_price = optional_money(row, "low_price"), optional_money(row, "high_price")
    text = text_value(row, "price")
    if text is None and low_price is not None and high_price is not None:
        price = (low_price + high_price) / TWO
    else:
        price = parse_money(text_value(row, "price", required=True), "price")
    if price == 0:
        raise FieldError("price 必须大于零 (price must be positive)")
    if low_price is not None and high_price is not None:
        if low_price > high_price:  # Xinfadi prints 泰国香蕉 8.6 / 6.7
            raise FieldError(f"最低价高于最高价：{low_price} > {high_price} (low above high)")
        if not low_price <= price <= high_price:
            raise FieldError(
                f"价格 {price} 不在最低价 {low_price} 与最高价 {high_price} 之间 (price outside its range)"
            )
    return price, low_price, high_price


def price_input(
    row: dict[str, Any], goods: GoodsResolver, default_source: str, default_price_type: str = "retail"
) -> PriceInput:
    """Build a normalised observation from one row, or raise :class:`FieldError` saying what is wrong."""
    row = canonical_row(row)
    observed_at = parse_datetime(text_value(row, "date", required=True), "date")
    name = text_value(row, "product", required=True)
    price, low_price, high_price = _prices(row)
    unit = text_value(row, "unit", required=True)
    assert name is not None and unit is not None
    price_type = text_value(row, "price_type") or default_price_type
    if price_type not in PRICE_TYPES:
        raise FieldError(f"price_type 只能是 {'/'.join(PRICE_TYPES)}：{price_type}")
    availability = text_value(row, "availability")
    if availability is not None and availability not in AVAILABILITIES:
        raise FieldError(f"availability 只能是 {'/'.join(AVAILABILITIES)}：{availability}")
    spec = text_value(row, "spec")
    try:
        categories = [text_value(row, "category"), text_value(row, "broad_category")]
        product = goods.resolve(name, unit=unit, spec=spec, category=categories)
        normalised, unit = normalise_named_price(price, unit, spec, product.standard_unit, name)
    except UnitError as exc:
        raise FieldError(str(exc)) from exc
    record_id = text_value(row, "record_id")
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
        origin=(text_value(row, "origin") or "")[:60],
        spec=spec[:80] if spec else None,
        package=(text_value(row, "package") or "")[:40],
        source_name=name[:80],
        source_record_id=record_id[:80] if record_id else None,
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

    ``source`` and ``price_type`` apply to rows that do not name their own. ``summary.provisional``
    counts the rows filed under provisional goods (待归类).
    """
    goods = GoodsResolver(session)
    provisional_rows = [0]  # of the batch in flight

    def prepare(row: Row) -> PriceInput:
        observation = price_input(row.data, goods, source, price_type)
        if observation.product_id in goods.provisional_ids:
            provisional_rows[0] += 1
        return observation

    def store(batch: list[PriceInput], summary: ImportSummary) -> None:
        stored, duplicates = store_observations(session, batch)
        summary.imported += stored
        summary.skipped += duplicates
        summary.provisional += provisional_rows[0]
        provisional_rows[0] = 0

    def keep_rejected(row: Row, exc: FieldError, summary: ImportSummary) -> None:
        """A rejected row is quarantined with its reason."""
        row_source = text_value(canonical_row(row.data), "source") or source
        quarantine(session, row_source, str(exc), _json_row(row.data))

    return feed_batches(
        session,
        rows,
        prepare=prepare,
        store=store,
        batch_size=batch_size,
        on_reject=keep_rejected,
        on_batch=on_batch,
    )
