"""The one price reader: filters pushed into the query, the same frame on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from core.models import Category, Merchant, PriceObservation, Product
from core.price_reads import OBSERVATION_COLUMNS, latest_price_date, read_observations

FIRST = dt.date(2024, 5, 1)


def _seed(session: Session) -> dict[str, int]:
    """Two goods, two shops in two districts and a wholesale market, three days."""
    category = Category(code="vegetables", name="蔬菜")
    cabbage = Product(code="chinese_cabbage", name="大白菜", category=category, standard_unit="500g")
    potato = Product(code="potato", name="土豆", category=category, standard_unit="500g")
    shops = [
        Merchant(name="道里超市", kind="retail", industry="超市", district="道里区"),
        Merchant(name="南岗超市", kind="retail", industry="超市", district="南岗区"),
    ]
    session.add_all([category, cabbage, potato, *shops])
    session.flush()
    rows = [
        (index, shop, product, shop.district, "retail", "in_stock", 2.0 + index + 0.5 * number)
        for index in range(3)
        for number, shop in enumerate(shops)
        for product in (cabbage, potato)
    ] + [(index, None, cabbage, "", "wholesale", None, 1.0 + index) for index in range(3)]
    for number, (index, shop, product, region, price_type, availability, price) in enumerate(rows):
        day = FIRST + dt.timedelta(days=index)
        observed = dt.datetime.combine(day, dt.time(8))
        session.add(
            PriceObservation(
                natural_key=f"obs-{number}",
                source="test",
                merchant_id=None if shop is None else shop.id,
                product_id=product.id,
                region=region,
                observed_at=observed,
                observed_date=day,
                price=Decimal(f"{price:.4f}"),
                raw_unit="斤",
                unit_price=price,
                standard_unit="500g",
                price_type=price_type,
                availability=availability,
            )
        )
    session.commit()
    return {"cabbage": cabbage.id, "potato": potato.id, "daoli": shops[0].id, "nangang": shops[1].id}


def test_read_observations_returns_every_observation_of_the_window(session: Session) -> None:
    _seed(session)

    frame = read_observations(session, start=FIRST, end=FIRST + dt.timedelta(days=2))

    assert list(frame.columns) == OBSERVATION_COLUMNS
    assert len(frame) == 15
    assert frame["date"].dtype == "datetime64[ns]"
    assert str(frame["merchant_id"].dtype) == "Int64"
    assert frame["merchant_id"].isna().sum() == 3
    assert sorted(frame["price_type"].astype(str).unique()) == ["retail", "wholesale"]
    assert frame["availability"].isna().sum() == 3


def test_read_observations_filters_in_the_query(session: Session) -> None:
    ids = _seed(session)

    frame = read_observations(
        session,
        start=FIRST + dt.timedelta(days=1),
        end=FIRST + dt.timedelta(days=2),
        product_ids=[ids["cabbage"]],
        price_type="retail",
        region="南岗区",
        merchant_id=ids["nangang"],
    )

    assert frame["date"].tolist() == [pd.Timestamp("2024-05-02"), pd.Timestamp("2024-05-03")]
    assert frame["unit_price"].tolist() == pytest.approx([3.5, 4.5])
    assert set(frame["product_id"]) == {ids["cabbage"]}
    assert set(frame["region"].astype(str)) == {"南岗区"}


def test_read_observations_of_no_goods_or_no_days_is_an_empty_frame_of_the_same_columns(
    session: Session,
) -> None:
    ids = _seed(session)

    for frame in (
        read_observations(session, start=FIRST, end=FIRST, product_ids=[]),
        read_observations(session, start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 2)),
    ):
        assert frame.empty
        assert list(frame.columns) == OBSERVATION_COLUMNS
        assert frame["date"].dtype == "datetime64[ns]"
    last = latest_price_date(session, product_ids=[ids["cabbage"]], price_type="wholesale")
    assert last == FIRST + dt.timedelta(days=2)
    assert latest_price_date(session, product_ids=[ids["potato"]], price_type="wholesale") is None


def test_read_observations_streams_in_chunks_without_losing_rows(session: Session) -> None:
    _seed(session)

    chunked = read_observations(session, start=FIRST, end=FIRST + dt.timedelta(days=2), chunk_rows=4)
    whole = read_observations(session, start=FIRST, end=FIRST + dt.timedelta(days=2))

    key = ["date", "merchant_id", "product_id", "price_type"]
    pd.testing.assert_frame_equal(
        chunked.sort_values(key).reset_index(drop=True).astype({"region": str, "price_type": str}),
        whole.sort_values(key).reset_index(drop=True).astype({"region": str, "price_type": str}),
        check_categorical=False,
    )
