"""The matcher's readable rules: what each strips, that it names itself, and that parts are not the whole."""

from __future__ import annotations

import pytest

from core.catalogue import (
    MatchResult,
    ProductMatcher,
    catalogue_products,
    category_for_source_name,
    load_catalogue,
    normalise_name,
)
from core.models import Product


@pytest.fixture(scope="module")
def matcher() -> ProductMatcher:
    return ProductMatcher(catalogue_products())


@pytest.mark.parametrize(
    ("raw_name", "code", "rule"),
    [
        ("大白菜", "chinese_cabbage", "alias"),
        ("菠菜(份)", "spinach", "normalised"),
        ("金针菇(袋)(2)", "enoki", "normalised"),
        ("金针菇（盒）", "enoki", "normalised"),
        ("精品 菠菜", "spinach", "normalised"),
        ("菠菜250克", "spinach", "normalised"),
        ("云南菠菜", "spinach", "strip-origin:云南"),
        ("外地菠菜(份)", "spinach", "strip-origin:外地"),
        ("鲁菠菜", "spinach", "strip-origin:鲁"),
        ("智利、越南香蕉", "banana", "strip-origin:智利+越南"),
        ("金龙鱼花生油", "peanut_oil", "strip-brand:金龙鱼"),
    ],
)
def test_each_rule_names_itself(matcher: ProductMatcher, raw_name: str, code: str, rule: str) -> None:
    result = matcher.resolve(raw_name)
    assert result.product is not None, raw_name
    assert (result.product.code, result.rule) == (code, rule)


@pytest.mark.parametrize("raw_name", ["", "  ", "()", "精品", "云南", "鸡肉", "苹果汁", "云南白药"])
def test_no_rule_means_no_match(matcher: ProductMatcher, raw_name: str) -> None:
    assert matcher.resolve(raw_name) == MatchResult(None, "")
    assert matcher.match(raw_name) is None


def test_origin_is_stripped_only_when_a_good_remains(matcher: ProductMatcher) -> None:
    assert matcher.match("云南菜") is None, "菜 is no good"
    assert matcher.match("菠菜云南") is None, "origin words are stripped from the front only"


def test_resolve_is_cached_per_raw_name(matcher: ProductMatcher) -> None:
    assert matcher.resolve("云南菠菜(份)") is matcher.resolve("云南菠菜(份)")


def test_two_goods_normalising_alike_are_never_guessed() -> None:
    first, second = Product(code="a", name="甲"), Product(code="b", name="乙")
    matcher = ProductMatcher({"精品苹果": first, "苹果(一级)": second})
    assert matcher.resolve("精品苹果") == MatchResult(first, "alias")
    assert matcher.resolve("苹果") == MatchResult(None, "")
    assert matcher.resolve("云南苹果") == MatchResult(None, "")


def test_suggestions_are_ranked_and_explained(matcher: ProductMatcher) -> None:
    resolved = matcher.suggest("云南菠菜")
    assert resolved[0].product.code == "spinach" and "strip-origin" in resolved[0].reason
    part = matcher.suggest("莲藕尖")
    assert part and part[0].product.code == "lotus_root"
    assert "开头" in part[0].reason, "a part is offered its whole with a caveat"
    assert matcher.resolve("莲藕尖").product is None, "but never matched to it"
    assert len(matcher.suggest("菠菜", limit=1)) == 1
    assert matcher.suggest("", limit=5) == []


def test_normalise_name_strips_pack_notes_and_keeps_goods_apart() -> None:
    assert normalise_name(" 精品 大白菜（1）") == normalise_name("大白菜")
    assert normalise_name("鲜粽叶(袋)(3)") == "鲜粽叶"
    assert normalise_name("杏鲍菇(250克)") == normalise_name("杏鲍菇250g") == "杏鲍菇"
    assert normalise_name("鸡蛋") != normalise_name("鸡肉")


@pytest.mark.parametrize(
    ("source_name", "code"),
    [
        ("蔬菜", "vegetables"),
        ("水果", "fruit"),
        ("水产", "aquatic"),
        ("粮油", "grain_oil"),
        ("豆制品", "bean_products"),
        ("水菜", "leafy_vegetables"),
        ("花叶类", "leafy_vegetables"),
        ("食用菌", "mushrooms"),
        ("水生根茎类", "aquatic_vegetables"),
        ("猪肉类", "pork_cuts"),
        ("淡水鱼", "freshwater_fish"),
        ("食用油", "edible_oil"),
        (" 甜瓜类 ", "melons"),
    ],
)
def test_category_for_source_name(source_name: str, code: str) -> None:
    assert category_for_source_name(source_name) == code


def test_category_for_source_name_refuses_what_it_does_not_know() -> None:
    assert category_for_source_name("其他类") is None
    assert category_for_source_name("") is None
    assert category_for_source_name(None) is None
    codes = {c.code for c in load_catalogue()}
    assert category_for_source_name("肉禽蛋") in codes
