"""Price storage: idempotent on the natural key (variants included), quarantine, on both databases."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.db import session_factory
from core.models import Merchant, PriceObservation, Product, QuarantinedItem
from core.prices import (
    PriceInput,
    get_or_create_merchant,
    price_natural_key,
    quarantine,
    store_observation,
    store_observations,
)


@pytest.fixture
def eggs(session: Session) -> Product:
    seed_catalogue(session)
    session.commit()
    product = session.scalar(select(Product).where(Product.code == "eggs"))
    assert product is not None
    return product


def _eggs_price(product: Product, **changes: object) -> PriceInput:
    values: dict[str, object] = {
        "source": "test-market",
        "product_id": product.id,
        "merchant": "哈尔滨好又多超市(南岗店)",
        "region": "南岗区",
        "observed_at": dt.datetime(2026, 3, 1, 9, 0),
        "price": Decimal("5.80"),
        "raw_unit": "斤",
        "unit_price": 5.8,
        "standard_unit": "500g",
    }
    values.update(changes)
    return PriceInput(**values)  # type: ignore[arg-type]


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_natural_key_is_stable_and_distinguishes_fields() -> None:
    moment = dt.datetime(2026, 3, 1, 9, 0)
    key = price_natural_key("xinfadi", None, 7, "", moment)
    assert len(key) == 64
    assert key == price_natural_key("xinfadi", None, 7, None, moment)
    assert key == price_natural_key("xinfadi", "", 7, "", moment.replace(tzinfo=dt.UTC))
    assert key != price_natural_key("xinfadi", "甲", 7, "", moment)
    assert key != price_natural_key("xinfadi", None, 8, "", moment)
    assert key != price_natural_key("xinfadi", None, 7, "北京", moment)
    assert key != price_natural_key("xinfadi", None, 7, "", moment + dt.timedelta(days=1))
    assert price_natural_key("s", None, 1, "", dt.date(2026, 3, 1)) == price_natural_key(
        "s", None, 1, "", dt.datetime(2026, 3, 1)
    )


def test_store_observation_is_idempotent(session: Session, eggs: Product) -> None:
    assert store_observation(session, _eggs_price(eggs)) == "stored"
    session.commit()
    assert store_observation(session, _eggs_price(eggs, price=Decimal("9.99"))) == "duplicate"
    session.commit()
    stored = session.scalars(select(PriceObservation)).all()
    assert len(stored) == 1
    assert stored[0].price == Decimal("5.80")
    assert stored[0].observed_date == dt.date(2026, 3, 1)
    assert stored[0].merchant is not None and stored[0].merchant.name == "哈尔滨好又多超市(南岗店)"


def test_store_observations_counts_stored_and_duplicates(session: Session, eggs: Product) -> None:
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(30)]
    batch = [_eggs_price(eggs, observed_at=day) for day in days]
    assert store_observations(session, batch) == (30, 0)
    session.commit()
    again = [*batch[:10], _eggs_price(eggs, observed_at=dt.date(2026, 5, 1)), batch[0]]
    assert store_observations(session, again) == (1, 11)
    session.commit()
    assert _count(session, PriceObservation) == 31
    assert _count(session, Merchant) == 1


def test_store_observations_rejects_invalid_input_before_writing(session: Session, eggs: Product) -> None:
    batch = [_eggs_price(eggs), _eggs_price(eggs, observed_at=dt.date(2026, 3, 2), price=Decimal("-1"))]
    with pytest.raises(ValueError, match="negative"):
        store_observations(session, batch)
    with pytest.raises(ValueError, match="standard unit"):
        store_observation(session, _eggs_price(eggs, standard_unit="kg"))
    with pytest.raises(ValueError, match="price_type"):
        store_observation(session, _eggs_price(eggs, price_type="black-market"))
    assert _count(session, PriceObservation) == 0


def test_wholesale_observation_without_merchant(session: Session, eggs: Product) -> None:
    obs = _eggs_price(eggs, merchant=None, region="北京", price_type="wholesale", source="xinfadi")
    assert store_observation(session, obs) == "stored"
    assert store_observation(session, obs) == "duplicate"
    session.commit()
    row = session.scalars(select(PriceObservation)).one()
    assert row.merchant_id is None and row.price_type == "wholesale"


def test_get_or_create_merchant_keeps_existing_details(session: Session) -> None:
    first = get_or_create_merchant(session, "  道里菜市场 ", district="道里区", kind="retail")
    again = get_or_create_merchant(session, "道里菜市场", district="南岗区")
    session.commit()
    assert first.id == again.id
    assert again.district == "道里区"
    with pytest.raises(ValueError):
        get_or_create_merchant(session, "  ")


def test_quarantine_keeps_each_raw_item_once(session: Session) -> None:
    raw = {"prodName": "大白菜", "avgPrice": "-1", "unitInfo": "斤"}
    quarantine(session, "xinfadi", "负价格 (negative price)", raw, "https://example.invalid/p")
    quarantine(session, "xinfadi", "负价格 (negative price)", dict(reversed(raw.items())))
    quarantine(session, "xinfadi", "负价格", {**raw, "avgPrice": "-2"})
    session.commit()
    items = session.scalars(select(QuarantinedItem).order_by(QuarantinedItem.id)).all()
    assert len(items) == 2
    assert items[0].raw == raw and items[0].url == "https://example.invalid/p"


def test_variant_quotes_are_two_observations_and_a_repeated_record_one(
    session: Session, eggs: Product
) -> None:
    """Xinfadi quotes one good on one day by origin and spec; only its own repeated record is a duplicate."""
    quotes = [
        _eggs_price(eggs, origin="鲁辽", spec="袋\\箱", price=Decimal("0.85"), unit_price=0.85),
        _eggs_price(eggs, origin="冀", spec="鲜干花", price=Decimal("0.9"), unit_price=0.9),
        _eggs_price(eggs, origin="冀", spec="鲜干花", package="箱", price=Decimal("0.9"), unit_price=0.9),
        _eggs_price(eggs, origin="冀", spec="鲜干花", price=Decimal("0.9"), unit_price=0.9),
    ]
    assert store_observations(session, quotes) == (3, 1)
    records = [
        _eggs_price(eggs, source_record_id="1294531", origin="冀"),
        _eggs_price(eggs, source_record_id="1294531", origin="冀"),
        _eggs_price(eggs, source_record_id="1294532", origin="冀"),
    ]
    assert store_observations(session, records) == (2, 1)
    session.commit()
    stored = session.scalars(select(PriceObservation).where(PriceObservation.source_record_id.is_not(None)))
    assert sorted(row.source_record_id or "" for row in stored) == ["1294531", "1294532"]


def test_natural_key_without_a_variant_is_unchanged() -> None:
    """Observations stored before variants existed keep their identity: re-imports add nothing."""
    moment = dt.datetime(2026, 3, 1)
    assert price_natural_key("s", "m", 1, "r", moment) == price_natural_key(
        "s", "m", 1, "r", moment, origin="", spec=None, package=""
    )
    assert price_natural_key("s", "m", 1, "r", moment) != price_natural_key(
        "s", "m", 1, "r", moment, origin="冀"
    )
    assert price_natural_key("s", "m", 1, "r", moment, source_record_id="9") == price_natural_key(
        "s", None, 2, "", moment + dt.timedelta(days=1), source_record_id="9"
    )


def test_concurrent_writers_of_the_same_observation_do_not_collide(engine: Engine, eggs: Product) -> None:
    """Two crawlers storing the same price at once: one stores it, the other sees a duplicate, no error."""
    first, second = session_factory(engine)(), session_factory(engine)()
    results: list[str] = []
    try:
        get_or_create_merchant(first, "哈尔滨好又多超市(南岗店)")
        first.commit()
        results.append(store_observation(first, _eggs_price(eggs)))
        waiting = threading.Thread(
            target=lambda: results.append(store_observation(second, _eggs_price(eggs)))
        )
        waiting.start()
        waiting.join(timeout=0.5)  # the second writer waits for the first one's lock
        first.commit()
        waiting.join(timeout=30)
        second.commit()
    finally:
        first.close()
        second.close()
    assert sorted(results) == ["duplicate", "stored"]
