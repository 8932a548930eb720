"""Price import: good rows land normalised, bad rows are named and quarantined, re-runs add nothing."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.models import PriceObservation, Product, QuarantinedItem, UnmappedItem
from importing.prices import import_prices
from importing.readers import read_rows

PRICES_CSV = """date,product,price,unit,merchant,region,spec,low_price,high_price
2026-03-01,鸡蛋,5.8,斤,好又多超市(南岗店),南岗区,,,
2026-03-01,大白菜,1.2,元/斤,好又多超市(南岗店),南岗区,,1.0,1.4
2026-03-01,医用外科口罩,60,盒,好又多超市(南岗店),南岗区,50片/盒,,
2026/03/02,大豆油,69.9,桶,好又多超市(南岗店),南岗区,5L,,
2026-13-01,鸡蛋,5.8,斤,好又多超市(南岗店),南岗区,,,
2026-03-01,鸡蛋,-3,斤,好又多超市(南岗店),道里区,,,
2026-03-01,榴莲,30,斤,好又多超市(南岗店),南岗区,,,
2026-03-01,鸡蛋,30,箱,好又多超市(南岗店),香坊区,,,
2026-03-01,鸡蛋,abc,斤,好又多超市(南岗店),平房区,,,
2026-03-01,,5,斤,好又多超市(南岗店),平房区,,,
2026-03-01,鸡蛋,0,斤,好又多超市(南岗店),平房区,,,
"""


@pytest.fixture
def catalogue(session: Session) -> Session:
    seed_catalogue(session)
    session.commit()
    return session


def _import(session: Session, content: str, name: str = "prices.csv", batch_size: int = 1000):
    return import_prices(session, read_rows(io.BytesIO(content.encode()), Path(name)), batch_size=batch_size)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_good_rows_land_and_bad_rows_are_named(catalogue: Session) -> None:
    summary = _import(catalogue, PRICES_CSV, batch_size=2)
    assert summary.as_dict() == {"read": 11, "imported": 4, "skipped": 0, "rejected": 7, "unmapped": 1}
    reasons = {problem.line: problem.reason for problem in summary.problems}
    assert set(reasons) == {6, 7, 8, 9, 10, 11, 12}
    assert "日期无法识别" in reasons[6]
    assert "负数" in reasons[7]
    assert "未收录的商品" in reasons[8]
    assert "箱" in reasons[9]
    assert "不是数字" in reasons[10]
    assert "product" in reasons[11]
    assert "大于零" in reasons[12]
    unit_prices = {
        row.product.code: (row.unit_price, row.standard_unit)
        for row in catalogue.scalars(select(PriceObservation))
    }
    assert unit_prices == {
        "eggs": (5.8, "500g"),
        "chinese_cabbage": (1.2, "500g"),
        "surgical_mask": (pytest.approx(1.2), "piece"),
        "soybean_oil": (pytest.approx(13.98), "L"),
    }
    cabbage = catalogue.scalar(select(PriceObservation).where(PriceObservation.low_price.is_not(None)))
    assert cabbage is not None and (cabbage.low_price, cabbage.high_price) == (Decimal("1.0"), Decimal("1.4"))
    assert _count(catalogue, QuarantinedItem) == 6
    unmapped = catalogue.scalars(select(UnmappedItem)).one()
    assert (unmapped.source, unmapped.raw_name) == ("import", "榴莲")


def test_rerun_adds_nothing(catalogue: Session) -> None:
    _import(catalogue, PRICES_CSV)
    again = _import(catalogue, PRICES_CSV)
    assert again.as_dict() == {"read": 11, "imported": 0, "skipped": 4, "rejected": 7, "unmapped": 1}
    assert _count(catalogue, PriceObservation) == 4
    assert _count(catalogue, QuarantinedItem) == 6


def test_jsonl_with_source_and_wholesale(catalogue: Session) -> None:
    content = (
        '{"date": "2026-03-01", "product": "猪肉(白条猪)", "price": 13.5, "unit": "斤", '
        '"source": "xinfadi", "region": "北京", "price_type": "wholesale"}\n'
        '{"date": "2026-03-01", "product": "猪肉(白条猪)", "price": 13.9, "unit": "斤", '
        '"source": "xinfadi", "region": "北京", "price_type": "wholesale"}\n'
    )
    summary = _import(catalogue, content, "prices.jsonl")
    assert (summary.imported, summary.skipped) == (1, 1), "same source, product, region and day"
    row = catalogue.scalars(select(PriceObservation)).one()
    assert (row.source, row.price_type, row.merchant_id) == ("xinfadi", "wholesale", None)


# Rows typed in the format of Xinfadi's getPriceData.html JSON (with its real quirks: low > high price,
# the same id twice, empty place and spec, bottled oil quoted "per 斤" at a price per 5L 桶).
XINFADI_JSONL = """\
{"id": 1, "prodName": "大白菜", "prodCat": "蔬菜", "lowPrice": "0.6", "highPrice": "0.8", "avgPrice": "0.7", "place": "冀", "specInfo": "", "unitInfo": "斤", "pubDate": "2022-06-10 00:00:00"}
{"id": 2, "prodName": "泰国香蕉", "prodCat": "水果", "lowPrice": "8.6", "highPrice": "6.7", "avgPrice": "7.65", "place": "", "specInfo": "", "unitInfo": "斤", "pubDate": "2022-06-10 00:00:00"}
{"id": 2, "prodName": "泰国香蕉", "prodCat": "水果", "lowPrice": "8.6", "highPrice": "6.7", "avgPrice": "7.65", "place": "", "specInfo": "", "unitInfo": "斤", "pubDate": "2022-06-10 00:00:00"}
{"id": 3, "prodName": "福临门大豆油", "prodCat": "粮油", "lowPrice": "62.5", "highPrice": "63.0", "avgPrice": "62.75", "place": "", "specInfo": "5L/桶", "unitInfo": "斤", "pubDate": "2022-06-10 00:00:00"}
{"id": 4, "prodName": "箱鸡蛋", "prodCat": "肉禽蛋", "lowPrice": "200", "highPrice": "205", "avgPrice": "202.5", "place": "", "specInfo": "", "unitInfo": "箱", "pubDate": "2022-06-10 00:00:00"}
{"id": 5, "prodName": "姑娘果（灯笼果）", "prodCat": "水果", "lowPrice": "20", "highPrice": "25", "avgPrice": "22.5", "place": "", "specInfo": "", "unitInfo": "斤", "pubDate": "2022-06-10 00:00:00"}
"""  # noqa: E501


def test_xinfadi_rows_import_as_wholesale(catalogue: Session) -> None:
    rows = read_rows(io.BytesIO(XINFADI_JSONL.encode()), Path("xinfadi.jsonl"))
    summary = import_prices(catalogue, rows, source="xinfadi", price_type="wholesale")
    assert summary.as_dict() == {"read": 6, "imported": 3, "skipped": 1, "rejected": 2, "unmapped": 1}
    stored = {row.product.code: row for row in catalogue.scalars(select(PriceObservation))}
    assert {code: row.unit_price for code, row in stored.items()} == {
        "chinese_cabbage": 0.7,
        "banana": 7.65,
        "soybean_oil": pytest.approx(12.55),
    }
    assert all(row.price_type == "wholesale" and row.source == "xinfadi" for row in stored.values())
    assert (stored["banana"].low_price, stored["banana"].high_price) == (Decimal("8.6"), Decimal("6.7"))
    assert {p.line for p in summary.problems} == {5, 6}


def test_staff_mapping_of_an_unmapped_name_is_used_next_time(catalogue: Session) -> None:
    content = "date,product,price,unit\n2026-03-01,笨鸡蛋,9.5,斤\n"
    assert _import(catalogue, content).unmapped == 1
    unmapped = catalogue.scalars(select(UnmappedItem)).one()
    unmapped.resolved_product_id = catalogue.scalar(select(Product.id).where(Product.code == "eggs"))
    catalogue.commit()
    assert _import(catalogue, content).imported == 1
