"""The sample city: deterministic, realistic in shape, and hiding exactly the two stories it promises."""

from __future__ import annotations

import datetime as dt
import re
from statistics import median

import pytest

from core.catalogue import load_catalogue
from core.models import Category, Product
from core.prices import PriceInput
from sample_city.complaint_generation import generate_complaints
from sample_city.market import DISTRICTS, MERCHANTS, build_sample_city
from sample_city.price_simulation import RETAIL_SOURCE, WHOLESALE_SOURCE, generate_prices

END = dt.date(2026, 6, 30)
PHONE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture(scope="module")
def products() -> dict[str, Product]:
    """Catalogue goods as transient rows with ids, as generate_prices reads them from the database."""
    result: dict[str, Product] = {}
    categories: dict[str, Category] = {}
    for category_spec in load_catalogue():
        parent = categories.get(category_spec.parent) if category_spec.parent else None
        category = Category(code=category_spec.code, name=category_spec.name, parent=parent)
        categories[category_spec.code] = category
        for spec in category_spec.products:
            product = Product(id=len(result) + 1, code=spec.code, name=spec.name, standard_unit=spec.unit)
            product.category = category
            result[spec.code] = product
    return result


@pytest.fixture(scope="module")
def prices(products: dict[str, Product]) -> list[PriceInput]:
    return list(generate_prices(build_sample_city(end=END), products))


def _unit_prices(prices: list[PriceInput], product_id: int, merchant: str | None) -> dict[dt.date, float]:
    return {
        p.observed_at.date(): p.unit_price  # type: ignore[union-attr]
        for p in prices
        if p.product_id == product_id and p.merchant == merchant
    }


def test_city_shape(prices: list[PriceInput]) -> None:
    city = build_sample_city(end=END)
    assert len(city.days) == 180 and city.days[-1] == END
    assert 18 <= len(MERCHANTS) <= 22
    assert {m.district for m in MERCHANTS if m.district} <= set(DISTRICTS)
    assert 38 <= len({p.product_id for p in prices}) <= 45
    retail_goods = {p.product_id for p in prices if p.source == RETAIL_SOURCE}
    assert len(retail_goods) == len(city.goods), "every good has shops (goods sit in sub-categories)"
    wholesale = [p for p in prices if p.source == WHOLESALE_SOURCE]
    assert wholesale and all(p.price_type == "wholesale" and p.merchant is None for p in wholesale)
    assert all(p.low_price <= p.price <= p.high_price for p in wholesale)  # type: ignore[operator]
    out_of_stock = sum(p.availability == "out_of_stock" for p in prices)
    assert 0 < out_of_stock < len(prices) * 0.01


def test_generation_is_deterministic(products: dict[str, Product], prices: list[PriceInput]) -> None:
    again = list(generate_prices(build_sample_city(end=END), products))
    assert [(p.merchant, p.product_id, p.observed_at, p.price) for p in again] == [
        (p.merchant, p.product_id, p.observed_at, p.price) for p in prices
    ]
    first = generate_complaints(build_sample_city(end=END), 50)
    assert [c.text for c in first] == [c.text for c in generate_complaints(build_sample_city(end=END), 50)]


def test_gouging_episode_is_one_merchant_and_one_good(
    products: dict[str, Product], prices: list[PriceInput]
) -> None:
    city = build_sample_city(end=END)
    episode = city.gouging
    mask = products[episode.product].id
    before = episode.start - dt.timedelta(days=3)
    during = episode.start + dt.timedelta(days=2)
    gouger = _unit_prices(prices, mask, episode.merchant)
    assert gouger[during] / gouger[before] == pytest.approx(1.40, abs=0.05)
    for merchant in (
        m.name for m in MERCHANTS if "epidemic_prevention" in m.sells and m.name != episode.merchant
    ):
        series = _unit_prices(prices, mask, merchant)
        assert series[during] / series[before] == pytest.approx(1.0, abs=0.05), merchant


def test_market_wide_move_reaches_every_seller_and_wholesale(
    products: dict[str, Product], prices: list[PriceInput]
) -> None:
    move = build_sample_city(end=END).market_move
    cabbage = products[move.product].id
    before, peak = move.start - dt.timedelta(days=3), move.start + dt.timedelta(days=3)
    sellers = {p.merchant for p in prices if p.product_id == cabbage}
    assert None in sellers and len(sellers) >= 10
    ratios = [_unit_prices(prices, cabbage, seller) for seller in sellers]
    assert median(s[peak] / s[before] for s in ratios) == pytest.approx(1.6, abs=0.12)
    assert all(s[peak] / s[before] > 1.35 for s in ratios)


def test_complaints_read_like_the_real_thing() -> None:
    city = build_sample_city(end=END)
    complaints = generate_complaints(city, 2000)
    assert len(complaints) == 2000
    assert {c.nature for c in complaints} == {
        "价格",
        "质量",
        "售后服务",
        "虚假宣传",
        "合同",
        "假冒伪劣",
        "计量",
        "安全",
        "其他",
    }
    assert all(city.start <= c.created_at.date() <= END for c in complaints)
    # Nothing later than the start of END in China (naive UTC): a demo built today shows only the past.
    cutoff = dt.datetime.combine(END, dt.time()) - dt.timedelta(hours=8)
    assert all(c.created_at < cutoff for c in complaints)
    assert all(at < cutoff for c in complaints for _, at, _ in c.steps)
    with_phone = sum(bool(PHONE.search(c.text)) for c in complaints)
    assert 0.1 * len(complaints) < with_phone < 0.4 * len(complaints)
    assert any("单元" in c.text and "室" in c.text for c in complaints)
    episode = city.gouging
    days = {episode.start + dt.timedelta(days=n) for n in range(episode.days)}
    about_gouging = [
        c
        for c in complaints
        if c.merchant_name == episode.merchant
        and c.nature == "价格"
        and "口罩" in c.text
        and c.created_at.date() in days
    ]
    assert len(about_gouging) >= 10
    statuses = {step[0] for c in complaints for step in c.steps}
    assert {"accepted", "mediating", "resolved", "closed", "rejected"} <= statuses
    assert any(not c.steps for c in complaints), "some complaints still wait to be accepted"
