"""Catalogue: seeding is idempotent, and matching maps source names to goods without guessing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.catalogue import ProductMatcher, catalogue_products, load_catalogue, normalise_name, seed_catalogue
from core.models import Category, Product, ProductAlias

REQUIRED_CATEGORIES = {"粮油", "肉禽蛋", "蔬菜", "水果", "水产", "豆制品", "奶类", "防疫用品"}


def test_catalogue_covers_the_livelihood_categories() -> None:
    categories = load_catalogue()
    assert {c.name for c in categories if c.parent is None} == REQUIRED_CATEGORIES
    assert sum(len(c.products) for c in categories) >= 300
    parents = {c.code: c.parent for c in categories}
    under_epidemic = {c.code for c in categories if "epidemic_prevention" in (c.code, c.parent)}
    epidemic = {p.name for c in categories if c.code in under_epidemic for p in c.products}
    assert {"一次性医用口罩", "医用外科口罩", "N95口罩", "84消毒液", "医用酒精", "体温计"} <= epidemic
    assert all(parent is None or parents[parent] is None for parent in parents.values()), "two levels"


def test_categories_carry_coicop_codes_where_one_fits() -> None:
    coicop = {c.name: c.coicop for c in load_catalogue()}
    assert coicop["蔬菜"] == coicop["叶菜类"] == "01.1.7"
    assert coicop["水果"] == "01.1.6"
    assert coicop["猪肉类"] == coicop["禽肉类"] == "01.1.2"
    assert coicop["蛋类"] == coicop["奶类"] == "01.1.4"
    assert coicop["水产"] == "01.1.3"
    assert coicop["米面"] == "01.1.1"
    assert coicop["食用油"] == "01.1.5"
    assert (coicop["医用防护用品"] or "").startswith("06.1") and (coicop["消毒用品"] or "").startswith("05.6")
    assert coicop["肉禽蛋"] is None and coicop["粮油"] is None, "mixed parents get no single code"


def test_seed_catalogue_builds_the_tree(session: Session) -> None:
    seed_catalogue(session)
    session.commit()
    leafy = session.scalar(select(Category).where(Category.code == "leafy_vegetables"))
    assert leafy is not None and leafy.parent is not None and leafy.parent.code == "vegetables"
    assert leafy.coicop == "01.1.7"
    spinach = session.scalar(select(Product).where(Product.code == "spinach"))
    assert spinach is not None and spinach.category is leafy


def test_seed_catalogue_fills_in_the_tree_of_an_older_database(session: Session) -> None:
    """A database seeded before the tree keeps its goods where they are and gains parents and codes."""
    session.add(Category(code="vegetables", name="蔬菜"))
    session.add(Category(code="leafy_vegetables", name="叶菜类"))
    session.commit()
    seed_catalogue(session)
    session.commit()
    leafy = session.scalar(select(Category).where(Category.code == "leafy_vegetables"))
    assert leafy is not None and leafy.parent is not None and leafy.parent.code == "vegetables"
    assert leafy.coicop == "01.1.7" and leafy.parent.coicop == "01.1.7"


def test_seed_catalogue_is_idempotent(session: Session) -> None:
    added = seed_catalogue(session)
    session.commit()
    assert added > 200
    counts = [session.scalar(select(func.count()).select_from(t)) for t in (Category, Product, ProductAlias)]
    assert seed_catalogue(session) == 0
    session.commit()
    assert [
        session.scalar(select(func.count()).select_from(t)) for t in (Category, Product, ProductAlias)
    ] == counts


def test_seed_catalogue_adds_only_what_is_missing(session: Session) -> None:
    seed_catalogue(session)
    session.commit()
    eggs = session.scalar(select(Product).where(Product.code == "eggs"))
    assert eggs is not None
    session.delete(session.scalar(select(ProductAlias).where(ProductAlias.alias == "红皮鸡蛋")))
    eggs.name = "鲜鸡蛋(散装)"
    session.commit()
    assert seed_catalogue(session) == 1
    session.commit()
    assert eggs.name == "鲜鸡蛋(散装)", "staff renames survive re-seeding"


@pytest.fixture(scope="module")
def matcher() -> ProductMatcher:
    """The catalogue's matcher without a database (from_session is tested against both databases)."""
    return ProductMatcher(catalogue_products())


def test_matcher_from_session_uses_stored_aliases(session: Session) -> None:
    seed_catalogue(session)
    pork = session.scalar(select(Product).where(Product.code == "pork"))
    session.add(ProductAlias(product=pork, alias="哈尔滨冷鲜猪肉"))
    session.commit()
    matcher = ProductMatcher.from_session(session)
    assert matcher.match("猪肉(白条猪)") is pork
    assert matcher.match("哈尔滨冷鲜猪肉") is pork
    assert matcher.match("鸡肉") is None


@pytest.mark.parametrize(
    ("raw_name", "code"),
    [
        ("大白菜", "chinese_cabbage"),
        ("白菜", "chinese_cabbage"),
        ("猪肉(白条猪)", "pork"),
        ("白条猪", "pork"),
        ("鲜猪肉", "pork"),
        ("鸡蛋", "eggs"),
        ("红皮鸡蛋", "eggs"),
        ("散鸡蛋", "eggs"),
        ("  大白菜 ", "chinese_cabbage"),
        ("精品大白菜", "chinese_cabbage"),
        ("大白菜(一级)", "chinese_cabbage"),
        ("大白菜（精品）", "chinese_cabbage"),
        ("菠菜(份)", "spinach"),
        ("金针菇(袋)(1)", "enoki"),
        ("洪湖莲藕(粉藕)", "lotus_root"),
        ("本地上海青", "shanghai_greens"),
        ("西峡香菇(1)", "shiitake"),
        ("n95", "n95_mask"),
        ("Ｎ９５口罩", "n95_mask"),
        ("84消毒液", "disinfectant_84"),
        ("泰国香蕉", "banana"),
        ("一级 大豆油", "soybean_oil"),
    ],
)
def test_matcher_maps_source_names(matcher: ProductMatcher, raw_name: str, code: str) -> None:
    product = matcher.match(raw_name)
    assert product is not None, raw_name
    assert product.code == code


@pytest.mark.parametrize(
    "raw_name", ["鸡肉", "鸡", "蛋", "白", "猪", "菜", "精品", "()", "", "   ", "榴莲", "东北大米饭"]
)
def test_matcher_never_guesses(matcher: ProductMatcher, raw_name: str) -> None:
    assert matcher.match(raw_name) is None


def test_matcher_refuses_ambiguous_normalised_names() -> None:
    first, second = Product(code="a", name="甲"), Product(code="b", name="乙")
    matcher = ProductMatcher({"精品苹果": first, "苹果(一级)": second})
    assert matcher.match("精品苹果") is first
    assert matcher.match("苹果") is None


def test_normalise_name_keeps_distinct_goods_apart() -> None:
    assert normalise_name("鸡蛋") != normalise_name("鸡肉")
    assert normalise_name(" 精品 大白菜（1）") == normalise_name("大白菜")
