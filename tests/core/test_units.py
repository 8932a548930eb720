"""Unit conversion: every way a Chinese price is quoted ends as 元 per 500g, L or piece — or a clear error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.units import (
    NormalisedPrice,
    UnitError,
    count_unit_in_name,
    normalise_named_price,
    normalise_price,
    pack_unit_in_name,
)


@pytest.mark.parametrize(
    ("price", "unit", "spec", "standard", "unit_price", "quantity", "expected_standard"),
    [
        (3.0, "斤", None, None, 3.0, 1.0, "500g"),
        (3.0, "元/斤", None, "500g", 3.0, 1.0, "500g"),
        (3.0, "市斤", None, None, 3.0, 1.0, "500g"),
        (10.0, "公斤", None, None, 5.0, 2.0, "500g"),
        (10.0, "千克", None, None, 5.0, 2.0, "500g"),
        (10.0, "kg", None, None, 5.0, 2.0, "500g"),
        (10.0, "KG", None, None, 5.0, 2.0, "500g"),
        (10.0, "元/公斤", None, None, 5.0, 2.0, "500g"),
        (0.02, "克", None, None, 10.0, 0.002, "500g"),
        (0.02, "g", None, None, 10.0, 0.002, "500g"),
        (4.0, "500g", None, None, 4.0, 1.0, "500g"),
        (4.0, "元/500克", None, None, 4.0, 1.0, "500g"),
        (2.0, "两", None, None, 20.0, 0.1, "500g"),
        (4.0, "2两", None, None, 20.0, 0.2, "500g"),
        (8.0, "半斤", None, None, 16.0, 0.5, "500g"),
        (12.0, "2.5kg", None, None, 2.4, 5.0, "500g"),
        (8.0, "升", None, None, 8.0, 1.0, "L"),
        (8.0, "L", None, None, 8.0, 1.0, "L"),
        (3.0, "毫升", "", None, 3000.0, 0.001, "L"),
        (6.0, "500ml", None, None, 12.0, 0.5, "L"),
        (69.9, "桶", "5L", None, 13.98, 5.0, "L"),
        (69.9, "桶", "5升/桶", "L", 13.98, 5.0, "L"),
        (69.9, "元/5升桶", None, None, 13.98, 5.0, "L"),
        (69.9, "桶(5L)", None, None, 13.98, 5.0, "L"),
        (3.0, "个", "250g左右", "500g", 6.0, 0.5, "500g"),
        (3.0, "个", "约250克", None, 6.0, 0.5, "500g"),
        (3.0, "个", "200-300g", "500g", 6.0, 0.5, "500g"),
        (3.0, "个", "250g左右", "piece", 3.0, 1.0, "piece"),
        (60.0, "盒", "50片/盒", None, 1.2, 50.0, "piece"),
        (60.0, "盒", "50片/盒", "piece", 1.2, 50.0, "piece"),
        (1.2, "片", "50片/盒", "piece", 1.2, 1.0, "piece"),
        (36.0, "箱", "12瓶/箱", "piece", 3.0, 12.0, "piece"),
        (36.0, "箱", "一箱12瓶", "piece", 3.0, 12.0, "piece"),
        (36.0, "箱", "每箱12瓶", "piece", 3.0, 12.0, "piece"),
        (100.0, "袋", "2.5kg*4袋", None, 5.0, 20.0, "500g"),
        (100.0, "袋", "2.5kg×4袋", "500g", 5.0, 20.0, "500g"),
        (24.0, "箱", "500ml*12", None, 4.0, 6.0, "L"),
        (24.0, "箱", "500ml*12", "piece", 2.0, 12.0, "piece"),
        (24.0, "箱", "500ml*12瓶/箱", "L", 4.0, 6.0, "L"),
        (3.0, "瓶", "500ml*12瓶/箱", "L", 6.0, 0.5, "L"),
        (15.0, "盒", "30枚/盒", "piece", 0.5, 30.0, "piece"),
        (5.0, "个", None, None, 5.0, 1.0, "piece"),
        (5.0, "只", None, "piece", 5.0, 1.0, "piece"),
        (0.8, "枚", None, "piece", 0.8, 1.0, "piece"),
        (25.0, "支", None, "piece", 25.0, 1.0, "piece"),
        (5.0, "个", "大", "piece", 5.0, 1.0, "piece"),
        (5.0, "斤", "活", "500g", 5.0, 1.0, "500g"),
        (5.0, "斤", "5L/桶", "500g", 5.0, 1.0, "500g"),
        (12.0, "瓶", "500毫升", "L", 24.0, 0.5, "L"),
        (30.0, "袋", "10斤/袋", "500g", 3.0, 10.0, "500g"),
        (20.0, "两个", None, "piece", 10.0, 2.0, "piece"),
        # Real Xinfadi rows: unit 斤 but the price is per 桶 of oil.
        (62.75, "斤", "5L/桶", "L", 12.55, 5.0, "L"),
        (129.0, "斤", "10L/桶", "L", 12.9, 10.0, "L"),
        (56.7, "斤", "4.5L/桶", "L", 12.6, 4.5, "L"),
    ],
)
def test_normalise_price_converts(
    price: float,
    unit: str,
    spec: str | None,
    standard: str | None,
    unit_price: float,
    quantity: float,
    expected_standard: str,
) -> None:
    result = normalise_price(price, unit, spec, standard)
    assert result.standard_unit == expected_standard
    assert result.unit_price == pytest.approx(unit_price)
    assert result.quantity == pytest.approx(quantity)


def test_normalise_price_accepts_decimal() -> None:
    assert normalise_price(Decimal("9.90"), "斤") == NormalisedPrice(9.9, "500g", 1.0)


@pytest.mark.parametrize(
    ("unit", "spec", "standard", "reason"),
    [
        ("箱", None, "500g", "没有规格"),
        ("箱", None, None, "件数"),
        ("箱", "12瓶/箱", "L", "容量"),
        ("斤", None, "L", "容量"),
        ("斤", None, "piece", "件数"),
        ("升", None, "500g", "重量"),
        ("盒", "30枚/盒", "500g", "重量"),
        ("坨", None, None, "无法识别计价单位"),
        ("元/", None, None, "无法识别计价单位"),
        ("", None, None, "缺少计价单位"),
        ("   ", None, None, "缺少计价单位"),
        ("盒", "12@@3", None, "无法识别规格"),
        ("斤", None, "kg", "未知的标准单位"),
        ("0kg", None, None, "大于零"),
    ],
)
def test_normalise_price_refuses(unit: str, spec: str | None, standard: str | None, reason: str) -> None:
    with pytest.raises(UnitError, match=reason):
        normalise_price(10, unit, spec, standard)


def test_unit_error_names_the_unit_in_english_too() -> None:
    with pytest.raises(UnitError) as caught:
        normalise_price(10, "箱", None, "500g")
    assert "cannot convert '箱'" in str(caught.value)


@pytest.mark.parametrize("price", [float("nan"), float("inf")])
def test_normalise_price_refuses_non_numbers(price: float) -> None:
    with pytest.raises(UnitError, match="价格不是有效数字"):
        normalise_price(price, "斤")


def test_unit_error_is_a_value_error() -> None:
    assert issubclass(UnitError, ValueError)


@pytest.mark.parametrize(
    ("name", "unit"),
    [("莲蓬(个)", "个"), ("莲蓬（个）", "个"), ("鲜粽叶(袋)(1)", "袋"), ("菠菜(份)", "份"), ("莲蓬", None)],
)
def test_count_unit_in_name(name: str, unit: str | None) -> None:
    assert count_unit_in_name(name) == unit


def test_named_counting_unit_is_only_a_fallback() -> None:
    per_pod, used = normalise_named_price(2.5, "元/千克", None, "piece", "莲蓬(个)")
    assert (per_pod.unit_price, per_pod.standard_unit, used) == (2.5, "piece", "个")
    by_weight, used = normalise_named_price(4.0, "元/千克", None, "500g", "莲蓬(个)")
    assert (by_weight.unit_price, used) == (2.0, "元/千克")
    with pytest.raises(UnitError):
        normalise_named_price(2.5, "元/千克", None, "piece", "莲蓬")


@pytest.mark.parametrize(
    ("name", "spec", "pack"),
    [
        ("菠菜(份)", None, "份"),
        ("鲜粽叶(袋)(1)", None, "袋"),
        ("冰草（盒）", "", "盒"),
        ("菠菜(份)", "300g", None),  # the spec weighs the portion
        ("杏鲍菇(250克)", None, None),  # the name weighs the pack
        ("小青菜(1)", None, None),  # a number is no pack
        ("菠菜", None, None),
    ],
)
def test_pack_unit_in_name(name: str, spec: str | None, pack: str | None) -> None:
    assert pack_unit_in_name(name, spec) == pack


def test_a_weight_in_the_name_prices_the_pack() -> None:
    by_weight, used = normalise_named_price(3.15, "元/千克", None, "500g", "杏鲍菇(250克)")
    assert (by_weight.unit_price, used) == (pytest.approx(6.3), "250克")
    weighed_portion, used = normalise_named_price(3.0, "元/千克", "300g", "500g", "上海青(份)")
    assert (weighed_portion.unit_price, used) == (pytest.approx(5.0), "份")
