"""Public price API: catalogue, price series and price indices against a real database."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.baskets import BASKETS_FILE, parse_baskets
from core.catalogue import seed_catalogue
from core.config import Settings
from core.models import Merchant, Product
from core.prices import PriceInput, store_observations

DAY = dt.date(2024, 3, 4)  # a Monday


def _price(product: Product, merchant: str, day: dt.date, unit_price: float, **extra: object) -> PriceInput:
    fields: dict[str, object] = {
        "source": "test_market",
        "product_id": product.id,
        "observed_at": dt.datetime.combine(day, dt.time(9)),
        "price": unit_price,
        "raw_unit": "斤",
        "unit_price": unit_price,
        "standard_unit": product.standard_unit,
        "merchant": merchant,
        "region": "哈尔滨",
    } | extra
    return PriceInput(**fields)  # type: ignore[arg-type]


@pytest.fixture
def goods(engine: object, session: Session) -> dict[str, Product]:
    """The shipped catalogue, and 14 days of 大白菜 and 猪肉 prices at two Harbin supermarkets.

    大白菜: 家乐福 2.00 → 3.00 from day 7, 大润发 1.00 flat (Jevons link on day 7: √1.5).
    猪肉: both sellers 13.00 flat. A wholesale price of 大白菜 and a 大庆 seller for the filters.
    """
    seed_catalogue(session)
    session.commit()
    products = {
        p.code: p
        for p in session.scalars(select(Product).where(Product.code.in_(["chinese_cabbage", "pork"])))
    }
    cabbage, pork = products["chinese_cabbage"], products["pork"]
    prices = []
    for offset in range(14):
        day = DAY + dt.timedelta(days=offset)
        prices += [
            _price(cabbage, "家乐福哈尔滨南岗店", day, 2.0 if offset < 7 else 3.0),
            _price(cabbage, "大润发哈尔滨道里店", day, 1.0),
            _price(pork, "家乐福哈尔滨南岗店", day, 13.0),
            _price(pork, "大润发哈尔滨道里店", day, 13.0),
            _price(cabbage, "新发地", day, 0.5, price_type="wholesale", region=""),
            _price(cabbage, "大庆百货", day, 9.0, region="大庆"),
        ]
    store_observations(session, prices)
    session.commit()
    return products


def test_products_lists_catalogue_with_units(client: TestClient, goods: dict[str, Product]) -> None:
    body = client.get("/api/products").json()
    assert body["count"] == len(body["data"]) > 60
    cabbage = next(item for item in body["data"] if item["code"] == "chinese_cabbage")
    assert cabbage["name"] == "大白菜"
    assert cabbage["price_unit"] == "元/500g"
    assert cabbage["category"] == {
        "code": "leafy_vegetables",
        "name": "叶菜类",
        "parent": "vegetables",
        "coicop": "01.1.7",
    }
    epidemic = client.get("/api/products", params={"category": "epidemic_prevention"}).json()
    assert {item["category"]["code"] for item in epidemic["data"]} == {"medical_supplies", "disinfection"}
    assert {"disposable_mask", "disinfectant_84"} <= {item["code"] for item in epidemic["data"]}
    leafy = client.get("/api/products", params={"category": "leafy_vegetables"}).json()
    assert {item["category"]["code"] for item in leafy["data"]} == {"leafy_vegetables"}
    categories = client.get("/api/products/categories").json()
    assert {"code": "vegetables", "name": "蔬菜", "parent": None, "coicop": "01.1.7"} in categories["data"]


def test_products_unknown_category_is_404(client: TestClient, goods: dict[str, Product]) -> None:
    response = client.get("/api/products", params={"category": "spaceships"})
    assert response.status_code == 404
    assert "未知的商品类别" in response.json()["error"]["message"]


def test_series_daily_low_avg_high(client: TestClient, goods: dict[str, Product]) -> None:
    response = client.get(
        "/api/prices/series",
        params={"product": "chinese_cabbage", "region": "哈尔滨", "from": "2024-03-04", "to": "2024-03-17"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=300"
    body = response.json()
    assert body["product"]["name"] == "大白菜"
    assert body["count"] == 14
    first, last = body["data"][0], body["data"][-1]
    assert first == {"period": "2024-03-04", "low": 1.0, "avg": 1.5, "high": 2.0, "median": 1.5, "count": 2}
    assert (last["low"], last["avg"], last["high"]) == (1.0, 2.0, 3.0)


def test_series_weekly_one_merchant_by_chinese_name(
    client: TestClient, session: Session, goods: dict[str, Product]
) -> None:
    merchant = session.scalar(select(Merchant).where(Merchant.name == "家乐福哈尔滨南岗店"))
    assert merchant is not None
    body = client.get(
        "/api/prices/series",
        params={"product": "大白菜", "merchant": merchant.id, "frequency": "week", "to": "2024-03-17"},
    ).json()
    assert body["merchant"] == {"id": merchant.id, "name": "家乐福哈尔滨南岗店"}
    assert [point["period"] for point in body["data"]] == ["2024-03-04", "2024-03-11"]
    assert [point["avg"] for point in body["data"]] == [2.0, 3.0]
    assert [point["count"] for point in body["data"]] == [7, 7]


def test_series_defaults_to_latest_prices_and_price_type(
    client: TestClient, goods: dict[str, Product]
) -> None:
    retail = client.get("/api/prices/series", params={"product": "chinese_cabbage"}).json()
    assert retail["end"] == "2024-03-17"
    assert retail["data"][0]["count"] == 3  # two Harbin sellers and the 大庆 one
    wholesale = client.get(
        "/api/prices/series", params={"product": "chinese_cabbage", "price_type": "wholesale"}
    ).json()
    assert {point["avg"] for point in wholesale["data"]} == {0.5}


SERIES_BAD_REQUESTS: list[tuple[dict[str, object], int, str]] = [
    ({"product": "龙肝凤髓"}, 404, "未知商品"),
    ({"product": "pork", "merchant": 999999}, 404, "未知经营者"),
    ({"product": "pork", "from": "2024-02-30"}, 422, "请求参数无效"),
    ({"product": "pork", "from": "2024-03-10", "to": "2024-03-01"}, 422, "晚于"),
    ({"product": "pork", "from": "2010-01-01", "to": "2024-03-01"}, 422, "区间过长"),
    ({"product": "pork", "frequency": "hour"}, 422, "请求参数无效"),
    ({}, 422, "请求参数无效"),
    ({"product": "pork", "region": "南岗\x00区"}, 400, "无效字符"),
    ({"product": "pork", "region": "南岗\x01区"}, 422, "请求参数无效"),
    ({"product": "9" * 30}, 404, "未知商品"),
    ({"product": "²"}, 404, "未知商品"),
    ({"product": "pork", "merchant": 10**12}, 422, "请求参数无效"),
]


def test_series_bad_parameters(client: TestClient, goods: dict[str, Product]) -> None:
    for params, status, message in SERIES_BAD_REQUESTS:
        response = client.get("/api/prices/series", params=params)
        assert response.status_code == status, params
        assert message in response.json()["error"]["message"], params


def test_series_windows_at_the_ends_of_the_calendar(client: TestClient, goods: dict[str, Product]) -> None:
    early = client.get("/api/prices/series", params={"product": "pork", "to": "0001-01-02"})
    assert early.status_code == 200
    assert (early.json()["start"], early.json()["count"]) == ("0001-01-01", 0)
    late = client.get("/api/prices/series", params={"product": "pork", "from": "9999-12-31"})
    assert late.status_code == 200
    assert (late.json()["end"], late.json()["count"]) == ("9999-12-31", 0)
    since = client.get("/api/prices/series", params={"product": "pork", "from": "2024-03-10"}).json()
    assert (since["start"], since["end"], since["count"]) == ("2024-03-10", "2024-03-17", 8)


def test_category_index_chained_jevons(client: TestClient, goods: dict[str, Product]) -> None:
    response = client.get("/api/prices/index", params={"category": "vegetables", "city": "哈尔滨"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["name"], body["base_date"]) == ("category", "蔬菜", "2024-03-04")
    values = [point["index"] for point in body["data"]]
    assert values[:7] == [100.0] * 7
    assert values[7] == pytest.approx(100 * 1.5**0.5, abs=1e-3)
    assert body["data"][7]["matched"] == 2


def test_category_index_follows_new_prices(
    client: TestClient, session: Session, goods: dict[str, Product]
) -> None:
    params = {"category": "vegetables", "city": "哈尔滨", "from": "2024-03-04", "to": "2024-03-18"}
    before = client.get("/api/prices/index", params=params).json()
    assert client.get("/api/prices/index", params=params).json() == before
    day = dt.date(2024, 3, 18)
    cabbage = goods["chinese_cabbage"]
    store_observations(
        session,
        [_price(cabbage, "家乐福哈尔滨南岗店", day, 6.0), _price(cabbage, "大润发哈尔滨道里店", day, 1.0)],
    )
    session.commit()
    after = client.get("/api/prices/index", params=params).json()
    assert after["count"] == before["count"] + 1
    assert after["data"][-1]["index"] == pytest.approx(100 * 3**0.5, abs=1e-3)  # 家乐福 2.00 → 6.00


def test_basket_index_weights_goods(
    client: TestClient, goods: dict[str, Product], settings: Settings
) -> None:
    (settings.data_dir / "basket.yaml").write_text(
        "baskets:\n  - {code: staples, name: 白菜猪肉, weights: {chinese_cabbage: 1, pork: 3}}\n",
        encoding="utf-8",
    )
    body = client.get("/api/prices/index", params={"basket": "staples", "city": "哈尔滨"}).json()
    assert (body["kind"], body["name"], body["base_date"]) == ("basket", "白菜猪肉", "2024-03-04")
    # a weighted Jevons of the goods: 大白菜 moves by √1.5 with weight 1/4, 猪肉 is flat
    assert body["data"][7]["index"] == pytest.approx(100 * 1.5 ** (0.5 / 4), abs=1e-3)
    assert (body["data"][7]["matched"], body["data"][7]["priced"]) == (4, 4)
    assert (body["method"], body["window"], body["splice"]) == ("geks_jevons", 395, "mean")
    # Neither basket nor category: the standard basket, the first of the deployment's file.
    default = client.get("/api/prices/index", params={"city": "哈尔滨"}).json()
    assert default == body


def test_without_basket_or_category_the_index_is_the_shipped_first_basket(
    client: TestClient, goods: dict[str, Product]
) -> None:
    shipped = parse_baskets(yaml.safe_load(BASKETS_FILE.read_text(encoding="utf-8")))
    response = client.get("/api/prices/index")
    assert response.status_code == 200, response.text
    assert (response.json()["kind"], response.json()["code"]) == ("basket", next(iter(shipped)))


def test_shipped_basket_needs_half_its_weight_priced(client: TestClient, goods: dict[str, Product]) -> None:
    body = client.get("/api/prices/index", params={"basket": "livelihood", "city": "哈尔滨"}).json()
    assert body["name"] == "民生商品价格指数"
    weights = parse_baskets(yaml.safe_load(BASKETS_FILE.read_text(encoding="utf-8")))["livelihood"].weights
    priced_share = (weights["chinese_cabbage"] + weights["pork"]) / sum(weights.values())
    assert priced_share < 0.5
    assert body["base_date"] is None
    assert body["count"] == 0


def test_broken_deployment_basket_file_is_503(
    client: TestClient, goods: dict[str, Product], settings: Settings
) -> None:
    (settings.data_dir / "basket.yaml").write_text("baskets: [{code: broken}]\n", encoding="utf-8")
    response = client.get("/api/prices/index", params={"basket": "broken"})
    assert response.status_code == 503
    assert "配置有误" in response.json()["error"]["message"]


def test_a_basket_file_without_baskets_leaves_category_indices(
    client: TestClient, goods: dict[str, Product], settings: Settings
) -> None:
    (settings.data_dir / "basket.yaml").write_text("baskets: []\n", encoding="utf-8")
    standard = client.get("/api/prices/index")
    assert standard.status_code == 404
    assert "未配置价格篮子" in standard.json()["error"]["message"]
    assert client.get("/api/prices/index", params={"category": "vegetables"}).status_code == 200


INDEX_BAD_REQUESTS: list[tuple[dict[str, object], int, str]] = [
    ({"basket": "livelihood", "category": "vegetables"}, 422, "其一"),
    ({"basket": "luxury"}, 404, "未知的价格篮子"),
    ({"category": "spaceships"}, 404, "未知的商品类别"),
    ({"category": "vegetables", "to": "yesterday"}, 422, "请求参数无效"),
    ({"category": "vegetables\x1b"}, 422, "请求参数无效"),
    ({"basket": "x" * 101}, 422, "请求参数无效"),
]


def test_index_bad_parameters(client: TestClient, goods: dict[str, Product]) -> None:
    for params, status, message in INDEX_BAD_REQUESTS:
        response = client.get("/api/prices/index", params=params)
        assert response.status_code == status, params
        assert message in response.json()["error"]["message"], params


def test_index_without_prices_is_empty(client: TestClient, goods: dict[str, Product]) -> None:
    body = client.get("/api/prices/index", params={"category": "fruit", "city": "哈尔滨"}).json()
    assert body["count"] == 0
    assert body["base_date"] is None


def test_index_windows_are_slices_of_one_published_series(
    client: TestClient, goods: dict[str, Product]
) -> None:
    wide = client.get(
        "/api/prices/index", params={"category": "vegetables", "city": "哈尔滨", "from": "2024-01-01"}
    ).json()
    narrow = client.get(
        "/api/prices/index",
        params={"category": "vegetables", "city": "哈尔滨", "from": "2024-03-12", "to": "2024-03-15"},
    ).json()
    assert wide["base_period"] == narrow["base_period"] == "2024-03-04"
    assert (narrow["method"], narrow["window"], narrow["splice"]) == ("geks_jevons", 395, "mean")
    by_day = {point["date"]: point for point in wide["data"]}
    assert [point["date"] for point in narrow["data"]] == [
        "2024-03-12",
        "2024-03-13",
        "2024-03-14",
        "2024-03-15",
    ]
    for point in narrow["data"]:
        assert point == by_day[point["date"]]
    assert narrow["data"][0]["index"] == pytest.approx(100 * 1.5**0.5, abs=1e-3)  # not rebased to 100
    assert narrow["provisional_from"] == "2023-02-17"  # the splice window of the newest day, 2024-03-17
    assert all(point["provisional"] for point in narrow["data"])


def test_index_late_prices_for_a_past_day_revise_from_that_day_only(
    client: TestClient, session: Session, goods: dict[str, Product]
) -> None:
    params = {"category": "vegetables", "city": "哈尔滨", "from": "2024-03-04", "to": "2024-03-17"}
    before = client.get("/api/prices/index", params=params).json()
    cabbage = goods["chinese_cabbage"]
    store_observations(
        session,
        [
            _price(cabbage, "沃尔玛哈尔滨中央店", DAY + dt.timedelta(days=offset), 4.0 + offset)
            for offset in (9, 10)
        ],
    )
    session.commit()
    after = client.get("/api/prices/index", params=params).json()
    assert after["data"][:9] == before["data"][:9]
    assert after["data"][9]["priced"] == 3 and after["data"][10]["matched"] == 3
    assert after["data"][10]["index"] != before["data"][10]["index"]
    assert after["base_period"] == before["base_period"]


def test_index_chained_jevons_on_request(client: TestClient, goods: dict[str, Product]) -> None:
    body = client.get(
        "/api/prices/index", params={"category": "vegetables", "city": "哈尔滨", "method": "chained_jevons"}
    ).json()
    assert (body["method"], body["window"], body["base_period"]) == ("chained_jevons", None, "2024-03-04")
    assert body["data"][7]["index"] == pytest.approx(100 * 1.5**0.5, abs=1e-3)
    bad = client.get("/api/prices/index", params={"category": "vegetables", "method": "laspeyres"})
    assert bad.status_code == 422


def test_index_items_are_variants_of_a_good(
    client: TestClient, session: Session, goods: dict[str, Product]
) -> None:
    """Two origins of 大白菜 at one seller are two items: the dear one appearing changes nothing."""
    cabbage = goods["chinese_cabbage"]
    params = {"category": "vegetables", "city": "哈尔滨", "from": "2024-03-04", "to": "2024-03-17"}
    before = client.get("/api/prices/index", params=params).json()
    store_observations(
        session,
        [
            _price(cabbage, "大润发哈尔滨道里店", DAY + dt.timedelta(days=offset), 5.0, origin="山东")
            for offset in (12, 13)
        ],
    )
    session.commit()
    after = client.get("/api/prices/index", params=params).json()
    assert [point["index"] for point in after["data"]] == [point["index"] for point in before["data"]]
    assert after["data"][13]["priced"] == before["data"][13]["priced"] + 1


def test_series_aggregates_over_variants_and_filters_by_them(
    client: TestClient, session: Session, goods: dict[str, Product]
) -> None:
    """Xinfadi quotes 大白菜 by origin and grade: the public series takes the day's median over them."""
    cabbage = goods["chinese_cabbage"]
    day = DAY + dt.timedelta(days=20)
    quotes = [
        _price(cabbage, "新发地", day, 0.4, origin="冀", region="北京", price_type="wholesale"),
        _price(cabbage, "新发地", day, 0.6, origin="冀", spec="精品", region="北京", price_type="wholesale"),
        _price(cabbage, "新发地", day, 1.1, origin="鲁", region="北京", price_type="wholesale"),
    ]
    assert store_observations(session, quotes) == (3, 0)
    session.commit()
    window = {"product": "chinese_cabbage", "region": "北京", "price_type": "wholesale", "from": str(day)}
    [point] = client.get("/api/prices/series", params=window).json()["data"]
    assert (point["count"], point["median"], point["low"], point["high"]) == (3, 0.6, 0.4, 1.1)
    [hebei] = client.get("/api/prices/series", params={**window, "origin": "冀"}).json()["data"]
    assert (hebei["count"], hebei["median"]) == (2, 0.5)
    [graded] = client.get("/api/prices/series", params={**window, "origin": "冀", "spec": "精品"}).json()[
        "data"
    ]
    assert (graded["count"], graded["avg"]) == (1, 0.6)
    assert client.get("/api/prices/series", params={**window, "origin": "豫"}).json()["data"] == []
