"""Importing price rows (``date, product, price, unit`` + optional fields) through the shared write path.

Rows are matched to the catalogue, normalised to the good's standard unit and stored with
:func:`core.prices.store_observations` in batches, so a re-run adds nothing (natural key). A name no good
claims is stored under a provisional good (待归类) in the row's category; only malformed rows are
rejected, each quarantined with its reason. Xinfadi's rows import as the site gives them: JSON objects,
a JSON array or API page, or its 20 fields in order without a header line (:data:`XINFADI_FIELDS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, overload

from sqlalchemy.orm import Session

from core.clock import utcnow
from core.prices import AVAILABILITIES, PRICE_TYPES, PriceInput, quarantine, store_observations
from core.provisional import GoodsResolver
from core.units import UnitError, normalise_named_price
from importing import DEFAULT_SOURCE
from importing.batches import feed_batches
from importing.fields import FieldError, ImportSummary, parse_datetime, parse_money
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
    return ReadOptions(
        columns=columns,
        headerless=HEADERLESS_FIELDS.get(source),
        known_columns=KNOWN_COLUMNS,
        headerless_sources=HEADERLESS_FIELDS,
    )


# Each accepted column name → (field, rank among the field's names); a row is read by its own columns
# (the first non-empty alias wins).
_FIELD_OF_COLUMN: dict[str, tuple[str, int]] = {
    name: (field, rank) for field, names in COLUMNS.items() for rank, name in enumerate(names)
}


def price_input(
    row: dict[str, Any], goods: GoodsResolver, default_source: str, default_price_type: str = "retail"
) -> PriceInput:
    """Build a normalised observation from one row, or raise :class:`FieldError` saying what is wrong."""
    return RowPreparer(goods, default_source, default_price_type).observation(row)


_Resolved = tuple[
    int, float, str, str
]  # product id, standard units per priced unit, standard unit, unit used
_CACHE_LIMIT = 100_000


class RowPreparer:
    """Turns rows into observations, remembering what repeats from row to row.

    A price file repeats a few thousand names, units, dates and prices over its rows: matching a name,
    reading its unit and parsing a date are done once per distinct value (measured: row preparation cost as
    much as storing the rows). Failures are remembered too, so a bad unit costs one attempt.
    """

    def __init__(self, goods: GoodsResolver, default_source: str, default_price_type: str = "retail") -> None:
        self.goods = goods
        self.default_source = default_source
        self.default_price_type = default_price_type
        self.now = utcnow()  # one "now" for the whole file: dates up to a day ahead are accepted
        self._plans: dict[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._dates: dict[str, dt.datetime | FieldError] = {}
        self._money: dict[str, Decimal | FieldError] = {}
        self._goods: dict[tuple[str, str, str | None, str | None, str | None], _Resolved | FieldError] = {}

    def fields(self, row: dict[str, Any]) -> dict[str, str]:
        """The row's text under our field names: the first non-empty of a field's columns, stripped."""
        keys = tuple(row)
        plan = self._plans.get(keys)
        if plan is None:
            by_field: dict[str, list[tuple[int, str]]] = {}
            for name in keys:
                known = _FIELD_OF_COLUMN.get(name)
                if known is not None:
                    by_field.setdefault(known[0], []).append((known[1], name))
            plan = tuple(
                (field, tuple(name for _, name in sorted(names))) for field, names in by_field.items()
            )
            self._plans[keys] = plan
        result: dict[str, str] = {}
        for field, names in plan:
            for name in names:
                value = row[name]
                if value is None:
                    continue
                text = (value if isinstance(value, str) else str(value)).strip()
                if text:
                    result[field] = text
                    break
        return result

    def _date(self, text: str) -> dt.datetime:
        parsed = self._dates.get(text)
        if parsed is None:
            try:
                parsed = parse_datetime(text, "date", now=self.now)
            except FieldError as exc:
                parsed = exc
            if len(self._dates) >= _CACHE_LIMIT:
                self._dates.clear()
            self._dates[text] = parsed
        if isinstance(parsed, FieldError):
            raise parsed
        return parsed

    @overload
    def _amount(self, text: str, name: str) -> Decimal: ...
    @overload
    def _amount(self, text: str | None, name: str) -> Decimal | None: ...
    def _amount(self, text: str | None, name: str) -> Decimal | None:
        """``text`` as money (parsed once per distinct text); a parse error is raised again each time."""
        if text is None:
            return None
        key = f"{name}\x1f{text}"
        amount = self._money.get(key)
        if amount is None:
            try:
                amount = parse_money(text, name)
            except FieldError as exc:
                amount = exc
            if len(self._money) >= _CACHE_LIMIT:
                self._money.clear()
            self._money[key] = amount
        if isinstance(amount, FieldError):
            raise amount
        return amount

    def _prices(self, fields: dict[str, str]) -> tuple[Decimal, Decimal | None, Decimal | None]:
        """(price, low, high); a row with only a range stands for its midpoint, as Xinfadi's avgPrice does.

        A range printed the wrong way round (low > high) is malformed (which figure is wrong cannot be
        told) and refused, as the crawler quarantines it; so is a price outside its range.
        """
        low_price = self._amount(fields.get("low_price"), "low_price")
        high_price = self._amount(fields.get("high_price"), "high_price")
        text = fields.get("price")
        if text is None and low_price is not None and high_price is not None:
            price = (low_price + high_price) / TWO
        elif text is None:
            raise FieldError("缺少必填字段 price (missing price)")
        else:
            price = self._amount(text, "price")
        if price == 0:
            raise FieldError("price 必须大于零 (price must be positive)")
        if low_price is not None and high_price is not None:
            if low_price > high_price:  # Xinfadi prints 泰国香蕉 8.6 / 6.7
                raise FieldError(f"最低价高于最高价：{low_price} > {high_price} (low above high)")
            if not low_price <= price <= high_price:
                raise FieldError(
                    f"价格 {price} 不在最低价 {low_price} 与最高价 {high_price} 之间"
                    " (price outside its range)"
                )
        return price, low_price, high_price

    def _resolve(self, name: str, unit: str, spec: str | None, fields: dict[str, str]) -> _Resolved:
        """The good of a name and how its unit converts, once per distinct (name, unit, spec, category)."""
        key = (name, unit, spec, fields.get("category"), fields.get("broad_category"))
        resolved = self._goods.get(key)
        if resolved is None:
            try:
                product = self.goods.resolve(name, unit=unit, spec=spec, category=[key[3], key[4]])
                normalised, used = normalise_named_price(1, unit, spec, product.standard_unit, name)
                resolved = (product.id, normalised.quantity, normalised.standard_unit, used[:30])
            except UnitError as exc:
                resolved = FieldError(str(exc))
            if len(self._goods) >= _CACHE_LIMIT:
                self._goods.clear()
            self._goods[key] = resolved
        if isinstance(resolved, FieldError):
            raise resolved
        return resolved

    def observation(self, row: dict[str, Any]) -> PriceInput:
        """A normalised observation of one row, or :class:`FieldError` saying what is wrong."""
        fields = self.fields(row)
        date_text = fields.get("date")
        if date_text is None:
            raise FieldError("缺少必填字段 date (missing date)")
        observed_at = self._date(date_text)
        name = fields.get("product")
        if name is None:
            raise FieldError("缺少必填字段 product (missing product)")
        price, low_price, high_price = self._prices(fields)
        unit = fields.get("unit")
        if unit is None:
            raise FieldError("缺少必填字段 unit (missing unit)")
        price_type = fields.get("price_type") or self.default_price_type
        if price_type not in PRICE_TYPES:
            raise FieldError(f"price_type 只能是 {'/'.join(PRICE_TYPES)}：{price_type}")
        availability = fields.get("availability")
        if availability is not None and availability not in AVAILABILITIES:
            raise FieldError(f"availability 只能是 {'/'.join(AVAILABILITIES)}：{availability}")
        spec = fields.get("spec")
        product_id, quantity, standard_unit, used_unit = self._resolve(name, unit, spec, fields)
        record_id = fields.get("record_id")
        return PriceInput(
            source=fields.get("source") or self.default_source,
            product_id=product_id,
            merchant=fields.get("merchant"),
            region=fields.get("region") or "",
            observed_at=observed_at,
            price=price,
            low_price=low_price,
            high_price=high_price,
            raw_unit=used_unit,
            origin=fields.get("origin", "")[:60],
            spec=spec[:80] if spec else None,
            package=fields.get("package", "")[:40],
            source_name=name[:80],
            source_record_id=record_id[:80] if record_id else None,
            unit_price=float(price) / quantity,
            standard_unit=standard_unit,
            price_type=price_type,
            availability=availability,
            fetched_at=self.now,
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
    preparer = RowPreparer(goods, source, price_type)
    provisional_rows = [0]  # of the batch in flight

    def prepare(row: Row) -> PriceInput:
        observation = preparer.observation(row.data)
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
        row_source = preparer.fields(row.data).get("source") or source
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
