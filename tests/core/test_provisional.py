"""Provisional goods (待归类): unknown names are stored as goods of their own, reviewed, merged, unmerged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.models import AuditLog, PriceDailyAggregate, PriceObservation, Product, ProductAlias, ProductMerge
from core.prices import PriceInput, store_observations
from core.provisional import (
    GoodsResolver,
    MergeError,
    find_good,
    merge_provisional,
    review_provisional,
    undo_merge,
)
from core.units import UnitError


@pytest.fixture
def catalogue(session: Session) -> Session:
    seed_catalogue(session)
    session.commit()
    return session


def _quote(product: Product, day: int, price: float, **changes: object) -> PriceInput:
    values: dict[str, object] = {
        "source": "xinfadi",
        "product_id": product.id,
        "merchant": "北京新发地",
        "observed_at": dt.date(2022, 6, day),
        "price": Decimal(str(price)),
        "raw_unit": "斤",
        "unit_price": price,
        "standard_unit": product.standard_unit,
        "price_type": "wholesale",
    }
    values.update(changes)
    return PriceInput(**values)  # type: ignore[arg-type]


def _daily_counts(session: Session) -> dict[tuple[int, str], int]:
    rows = session.scalars(select(PriceDailyAggregate))
    return {(row.product_id, row.observed_date.isoformat()): row.count for row in rows}


def test_an_unknown_name_becomes_a_provisional_good_in_its_source_category(catalogue: Session) -> None:
    goods = GoodsResolver(catalogue)
    wawa = goods.resolve("南北瓜", unit="斤", category=["", "蔬菜"])
    again = goods.resolve("南北瓜", unit="斤")
    lantern = goods.resolve("姑娘果", unit="盒", spec="250g/盒", category="没听过的类")
    catalogue.commit()
    assert wawa is again and wawa.status == "provisional" and wawa.code.startswith("provisional-")
    assert (wawa.category.code, wawa.standard_unit, wawa.essential) == ("vegetables", "500g", False)
    assert (lantern.category.name, lantern.standard_unit) == ("待归类", "500g")
    assert goods.resolve("大白菜", unit="斤").status == "catalogued"
    # A new resolver (another crawl) finds the same provisional good by its alias.
    assert GoodsResolver(catalogue).resolve("南北瓜", unit="斤").id == wawa.id
    with pytest.raises(UnitError):
        goods.resolve("整箱神秘水果", unit="箱")


def test_merge_moves_history_and_is_undone(catalogue: Session) -> None:
    goods = GoodsResolver(catalogue)
    raw = goods.resolve("本地小白菜心", unit="斤", category="蔬菜")
    cabbage = find_good(catalogue, "大白菜")
    stored = store_observations(
        catalogue,
        [
            _quote(raw, 9, 1.1, origin="冀"),
            _quote(raw, 10, 1.2, origin="冀"),
            _quote(cabbage, 10, 0.5, origin="冀"),
        ],
    )
    catalogue.commit()
    assert stored == (3, 0)
    [review] = review_provisional(catalogue)
    assert (review.product.id, review.observations) == (raw.id, 2)
    assert (review.first_day, review.last_day) == (dt.date(2022, 6, 9), dt.date(2022, 6, 10))

    merge = merge_provisional(catalogue, raw, cabbage, actor="staff1")
    catalogue.commit()
    assert (merge.observations, merge.days) == (2, ["2022-06-09", "2022-06-10"])
    rows = catalogue.scalars(select(PriceObservation).where(PriceObservation.product_id == cabbage.id)).all()
    assert sorted(float(row.price) for row in rows) == [0.5, 1.1, 1.2]
    assert raw.status == "merged" and review_provisional(catalogue) == []
    assert _daily_counts(catalogue) == {(cabbage.id, "2022-06-09"): 1, (cabbage.id, "2022-06-10"): 2}
    alias = catalogue.scalar(select(ProductAlias).where(ProductAlias.alias == "本地小白菜心"))
    assert alias is not None and alias.product_id == cabbage.id
    # The next crawl files the name under the good, and its re-crawl adds nothing (keys were moved).
    resolver = GoodsResolver(catalogue)
    assert resolver.resolve("本地小白菜心", unit="斤").id == cabbage.id
    assert store_observations(catalogue, [_quote(cabbage, 9, 1.1, origin="冀")]) == (0, 1)
    audit = catalogue.scalars(select(AuditLog).where(AuditLog.action == "product.merge")).one()
    assert audit.after is not None
    assert (audit.actor, audit.after["merged_into"], audit.after["days"]) == ("staff1", "chinese_cabbage", 2)

    undo_merge(catalogue, raw, actor="staff2")
    catalogue.commit()
    assert raw.status == "provisional"
    back = catalogue.scalars(select(PriceObservation).where(PriceObservation.product_id == raw.id)).all()
    assert sorted(float(row.price) for row in back) == [1.1, 1.2]
    assert all(row.merged_from_id is None for row in back)
    assert (
        catalogue.scalar(select(ProductAlias.product_id).where(ProductAlias.alias == "本地小白菜心"))
        == raw.id
    )
    assert store_observations(catalogue, [_quote(raw, 9, 1.1, origin="冀")]) == (0, 1)
    assert catalogue.scalars(select(ProductMerge.undone_by)).one() == "staff2"
    assert _daily_counts(catalogue) == {
        (raw.id, "2022-06-09"): 1,
        (raw.id, "2022-06-10"): 1,
        (cabbage.id, "2022-06-10"): 1,
    }
    assert catalogue.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()[-1] == "product.unmerge"


def test_wrong_merges_are_refused(catalogue: Session) -> None:
    goods = GoodsResolver(catalogue)
    raw = goods.resolve("散装神秘菜", unit="斤")
    per_piece = goods.resolve("神秘礼盒", unit="盒")
    catalogue.commit()
    cabbage, mask = find_good(catalogue, "chinese_cabbage"), find_good(catalogue, "医用外科口罩")
    with pytest.raises(MergeError, match="单位不同"):
        merge_provisional(catalogue, raw, mask, actor="staff")
    with pytest.raises(MergeError, match="不是待归类商品"):
        merge_provisional(catalogue, cabbage, cabbage, actor="staff")
    with pytest.raises(MergeError, match="已收录商品"):
        merge_provisional(catalogue, raw, per_piece, actor="staff")
    with pytest.raises(MergeError, match="没有可撤销的合并"):
        undo_merge(catalogue, raw, actor="staff")
    with pytest.raises(MergeError, match="未知商品"):
        find_good(catalogue, "火星土豆")
