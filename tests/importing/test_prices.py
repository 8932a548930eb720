"""Price import: good rows land normalised, unknown names as provisional goods, bad rows quarantined."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.models import PriceObservation, Product, QuarantinedItem
from importing.prices import import_prices, read_options
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
    assert summary.as_dict() == {"read": 11, "imported": 5, "skipped": 0, "rejected": 6, "provisional": 1}
    reasons = {problem.line: problem.reason for problem in summary.problems}
    assert set(reasons) == {6, 7, 9, 10, 11, 12}
    assert "日期无法识别" in reasons[6]
    assert "负数" in reasons[7]
    assert "箱" in reasons[9]
    assert "不是数字" in reasons[10]
    assert "product" in reasons[11]
    assert "大于零" in reasons[12]
    unit_prices = {
        row.product.code: (row.unit_price, row.standard_unit)
        for row in catalogue.scalars(select(PriceObservation))
        if row.product.status == "catalogued"
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
    durian = catalogue.scalars(select(Product).where(Product.status == "provisional")).one()
    assert (durian.name, durian.standard_unit, durian.category.name) == ("榴莲", "500g", "待归类")
    stored = catalogue.scalars(select(PriceObservation).where(PriceObservation.product_id == durian.id)).one()
    assert (stored.unit_price, stored.region) == (30.0, "南岗区")


def test_rerun_adds_nothing(catalogue: Session) -> None:
    _import(catalogue, PRICES_CSV)
    again = _import(catalogue, PRICES_CSV)
    assert again.as_dict() == {"read": 11, "imported": 0, "skipped": 5, "rejected": 6, "provisional": 1}
    assert _count(catalogue, PriceObservation) == 5
    assert _count(catalogue, QuarantinedItem) == 6
    assert _count(catalogue, Product) == len(catalogue.scalars(select(Product.id)).all())
    assert catalogue.scalars(select(Product.name).where(Product.status == "provisional")).all() == ["榴莲"]


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
    assert summary.as_dict() == {"read": 6, "imported": 3, "skipped": 0, "rejected": 3, "provisional": 1}
    stored = {row.source_name: row for row in catalogue.scalars(select(PriceObservation))}
    assert {name: row.unit_price for name, row in stored.items()} == {
        "大白菜": 0.7,
        "福临门大豆油": pytest.approx(12.55),
        "姑娘果（灯笼果）": 22.5,
    }
    assert all(row.price_type == "wholesale" and row.source == "xinfadi" for row in stored.values())
    assert (stored["大白菜"].origin, stored["大白菜"].source_record_id, stored["大白菜"].region) == (
        "冀",
        "1",
        "",
    )
    assert stored["姑娘果（灯笼果）"].product.category.name == "水果"
    reasons = {p.line: p.reason for p in summary.problems}
    assert reasons.keys() == {2, 3, 5}
    # low > high as the site prints it (泰国香蕉 8.6 / 6.7): malformed, quarantined once with its reason
    assert reasons[2] == reasons[3] == "最低价高于最高价：8.6 > 6.7 (low above high)"
    kept = catalogue.scalars(select(QuarantinedItem).where(QuarantinedItem.reason.startswith("最低价"))).one()
    assert (kept.source, kept.raw["prodname"], kept.raw["lowprice"]) == ("xinfadi", "泰国香蕉", "8.6")


def test_inverted_range_is_quarantined_from_a_csv_too(catalogue: Session) -> None:
    text = "date,product,price,unit,low_price,high_price\n2026-03-01,苹果,5,斤,6,4\n2026-03-02,苹果,5,斤,4,6"
    summary = import_prices(catalogue, read_rows(io.BytesIO(text.encode()), Path("p.csv")))
    assert (summary.imported, summary.rejected) == (1, 1)
    assert [p.reason for p in summary.problems] == ["最低价高于最高价：6 > 4 (low above high)"]
    assert catalogue.scalars(select(QuarantinedItem.reason)).one().startswith("最低价高于最高价")


# The real dump's layout: Xinfadi's 20 fields in the site's order (low, HIGH, avg), no header line.
XINFADI_HEADERLESS = """1294527,南北瓜,1186,蔬菜,,,0.7,0.8,0.75,豫冀,大,斤,2022-06-18 00:00:00,,138,,admin,,,
1294531,黄瓜,1186,蔬菜,,,0.8,0.9,0.85,鲁辽,袋\\箱,斤,2022-06-18 00:00:00,,138,,admin,,,
1294532,黄瓜,1186,蔬菜,,,0.85,0.95,0.9,冀,鲜干花,斤,2022-06-18 00:00:00,,138,,admin,,,
1294532,黄瓜,1186,蔬菜,,,0.85,0.95,0.9,冀,鲜干花,斤,2022-06-18 00:00:00,,138,,admin,,,
1294540,黄姑鱼,1199,水产,,,35,45,40,,,斤,2022-06-18 00:00:00,,138,,admin,,,
"""


def test_headerless_xinfadi_dump_keeps_every_variant(catalogue: Session) -> None:
    rows = read_rows(io.BytesIO(XINFADI_HEADERLESS.encode()), Path("新发地菜价.csv"), read_options("xinfadi"))
    summary = import_prices(catalogue, rows, source="xinfadi", price_type="wholesale")
    assert summary.as_dict() == {"read": 5, "imported": 4, "skipped": 1, "rejected": 0, "provisional": 2}
    cucumbers = catalogue.scalars(
        select(PriceObservation).join(PriceObservation.product).where(Product.name == "黄瓜")
    ).all()
    assert sorted((row.origin, row.spec, row.unit_price) for row in cucumbers) == [
        ("冀", "鲜干花", 0.9),
        ("鲁辽", "袋\\箱", 0.85),
    ]
    provisional = {
        p.name: p.category.name
        for p in catalogue.scalars(select(Product).where(Product.status == "provisional"))
    }
    assert provisional == {"南北瓜": "蔬菜", "黄姑鱼": "水产"}
    again = read_rows(
        io.BytesIO(XINFADI_HEADERLESS.encode()), Path("新发地菜价.csv"), read_options("xinfadi")
    )
    assert import_prices(catalogue, again, source="xinfadi").imported == 0


def test_variant_quotes_without_record_ids_are_two_observations(catalogue: Session) -> None:
    content = (
        "日期,品名,价格,单位,产地,规格,商户\n"
        "2026-03-01,黄瓜,0.85,斤,鲁辽,袋\\箱,新发地\n"
        "2026-03-01,黄瓜,0.9,斤,冀,鲜干花,新发地\n"
        "2026-03-01,黄瓜,0.9,斤,冀,鲜干花,新发地\n"
        "2026-03-01,黄瓜,0.7,斤,,,新发地\n"
    )
    summary = _import(catalogue, content)
    assert (summary.imported, summary.skipped) == (3, 1)


def test_column_mapping_and_xlsx(catalogue: Session, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(["销售日期", "单品名称", "批发价格(元/千克)", "单位", "分类名称"])
    sheet.append([dt.datetime(2023, 6, 30), "芜湖青椒(1)", 6.4, "元/千克", "辣椒类"])
    sheet.append([dt.datetime(2023, 6, 30), "大白菜", 2.4, "元/千克", "花叶类"])
    path = tmp_path / "prices.xlsx"
    workbook.save(path)
    columns = {
        "date": "销售日期",
        "product": "单品名称",
        "price": "批发价格(元/千克)",
        "category": "分类名称",
    }
    with path.open("rb") as stream:
        summary = import_prices(catalogue, read_rows(stream, path, read_options("import", columns)))
    assert (summary.imported, summary.rejected) == (2, 0)
    cabbage = catalogue.scalars(
        select(PriceObservation).join(PriceObservation.product).where(Product.code == "chinese_cabbage")
    ).one()
    assert cabbage.unit_price == pytest.approx(1.2)


def test_counting_unit_in_the_name_wins_over_a_weight_header(catalogue: Session) -> None:
    """CUMCM heads every price 元/千克 but prices 莲蓬(个) per pod and 菠菜(份) per portion."""
    content = (
        "date,product,price,unit,category,spec\n"
        "2026-03-01,莲蓬(个),2.5,元/千克,水生根茎类,\n"
        "2026-03-01,菠菜(份),2.27,元/千克,花叶类,\n"
        "2026-03-02,菠菜(份),2.4,元/千克,花叶类,\n"
        "2026-03-01,菠菜,5.84,元/千克,花叶类,\n"
        "2026-03-01,金针菇(袋)(1),1.73,元/千克,食用菌,\n"
        "2026-03-01,杏鲍菇(250克),3.15,元/千克,食用菌,\n"
        "2026-03-01,上海青(份),3.0,元/千克,花叶类,300g\n"
        "2026-03-01,莲蓬,2.5,元/千克,水生根茎类,\n"
    )
    summary = _import(catalogue, content)
    assert (summary.imported, summary.rejected) == (7, 1)
    assert "得不到件数" in summary.problems[0].reason  # 莲蓬 without its (个): per kg of a per-pod good
    stored = {
        (row.source_name, row.observed_date.day): (
            row.product.code,
            row.unit_price,
            row.standard_unit,
            row.raw_unit,
        )
        for row in catalogue.scalars(select(PriceObservation))
    }
    assert stored == {
        ("莲蓬(个)", 1): ("lotus_seedpod", 2.5, "piece", "个"),
        # a portion of unknown weight: per portion, under spinach's pack form, never in spinach's series
        ("菠菜(份)", 1): ("spinach-per-portion", 2.27, "piece", "份"),
        ("菠菜(份)", 2): ("spinach-per-portion", 2.4, "piece", "份"),
        ("菠菜", 1): ("spinach", pytest.approx(2.92), "500g", "元/千克"),
        ("金针菇(袋)(1)", 1): ("enoki-per-bag", 1.73, "piece", "袋"),
        # a weight is known: by weight, in the good's own series (250 g for 3.15 is 6.30 per 500 g)
        ("杏鲍菇(250克)", 1): ("king_oyster", pytest.approx(6.3), "500g", "250克"),
        ("上海青(份)", 1): ("shanghai_greens", pytest.approx(5.0), "500g", "份"),
    }
    portion = catalogue.scalars(select(Product).where(Product.code == "spinach-per-portion")).one()
    spinach = catalogue.scalars(select(Product).where(Product.code == "spinach")).one()
    assert (portion.name, portion.status, portion.standard_unit) == ("菠菜（份）", "catalogued", "piece")
    assert portion.category_id == spinach.category_id
    again = _import(catalogue, content)  # a re-import finds the same goods and adds nothing
    assert (again.imported, again.skipped) == (0, 7)
    assert (
        catalogue.scalar(select(func.count()).select_from(Product).where(Product.code.like("%-per-%"))) == 2
    )
