"""/api/provisional-goods: consumer-association staff review provisional goods, merge one, undo it."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.models import AuditLog, PriceObservation, Product
from core.prices import PriceInput, store_observations
from core.provisional import GoodsResolver
from tests.utils.auth import login_headers, make_association, make_user


def _provisional_prices(session: Session) -> Product:
    seed_catalogue(session)
    raw = GoodsResolver(session).resolve("本地小白菜心", unit="斤", category="蔬菜")
    quotes = [
        PriceInput(
            source="xinfadi",
            product_id=raw.id,
            observed_at=dt.date(2022, 6, day),
            price=1.2,
            raw_unit="斤",
            unit_price=1.2,
            standard_unit="500g",
            source_name="本地小白菜心",
        )
        for day in (9, 10)
    ]
    store_observations(session, quotes)
    session.commit()
    return raw


def test_staff_review_merge_and_undo(client: TestClient, session: Session) -> None:
    raw = _provisional_prices(session)
    make_user(session, "xiehui", "consumer_staff")
    headers = login_headers(client, "xiehui")
    listed = client.get("/api/provisional-goods", headers=headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["data"]
    assert (item["name"], item["category"], item["observations"]) == ("本地小白菜心", "蔬菜", 2)
    assert (item["first_day"], item["last_day"]) == ("2022-06-09", "2022-06-10")

    merged = client.post(f"/api/provisional-goods/{raw.code}/merge", json={"into": "大白菜"}, headers=headers)
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert (body["product"]["code"], body["observations"], body["days"]) == (
        "chinese_cabbage",
        2,
        ["2022-06-09", "2022-06-10"],
    )
    assert client.get("/api/provisional-goods", headers=headers).json()["count"] == 0
    session.expire_all()
    cabbage = session.scalar(select(Product).where(Product.code == "chinese_cabbage"))
    assert cabbage is not None
    moved = session.scalars(select(PriceObservation).where(PriceObservation.product_id == cabbage.id)).all()
    assert len(moved) == 2
    again = client.post(f"/api/provisional-goods/{raw.code}/merge", json={"into": "大白菜"}, headers=headers)
    assert again.status_code == 409 and "不是待归类商品" in again.text

    undone = client.post(f"/api/provisional-goods/{raw.code}/unmerge", headers=headers)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone"] is True
    assert client.get("/api/provisional-goods", headers=headers).json()["data"][0]["observations"] == 2
    actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["product.merge", "product.unmerge"]
    assert client.post("/api/provisional-goods/nothing-here/unmerge", headers=headers).status_code == 404
    # Digits of other kinds ("²" is a digit to str.isdigit, not to int) name no good either.
    assert client.post("/api/provisional-goods/²²0/unmerge", headers=headers).status_code == 404


def test_only_consumer_association_staff(client: TestClient, session: Session) -> None:
    raw = _provisional_prices(session)
    association = make_association(session, "supermarkets", ["超市"])
    make_user(session, "chaoshi", "association_staff", association=association)
    assert client.get("/api/provisional-goods").status_code == 401
    trade = login_headers(client, "chaoshi")
    assert client.get("/api/provisional-goods", headers=trade).status_code == 403
    refused = client.post(f"/api/provisional-goods/{raw.code}/merge", json={"into": "大白菜"}, headers=trade)
    assert refused.status_code == 403
