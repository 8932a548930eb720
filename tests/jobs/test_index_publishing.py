"""The index job keeps the published price indices current, so that reads only slice stored values."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.config import Settings
from core.models import JobRun, PriceIndexSeries, PriceIndexValue, Product
from core.prices import PriceInput, store_observations
from jobs.scheduler import execute_job

DAY = dt.date(2024, 3, 4)
SELLERS = ("家乐福哈尔滨南岗店", "大润发哈尔滨道里店")


def _prices(goods: dict[str, Product], day: dt.date, level: float) -> list[PriceInput]:
    return [
        PriceInput(
            source="test_market",
            product_id=good.id,
            observed_at=dt.datetime.combine(day, dt.time(9)),
            price=level * (1 + number) * (1 + index),
            raw_unit="斤",
            unit_price=level * (1 + number) * (1 + index),
            standard_unit=good.standard_unit,
            merchant=seller,
            region="哈尔滨",
        )
        for index, good in enumerate(goods.values())
        for number, seller in enumerate(SELLERS)
    ]


def _goods(session: Session) -> dict[str, Product]:
    seed_catalogue(session)
    session.commit()
    codes = ["chinese_cabbage", "pork"]
    return {good.code: good for good in session.scalars(select(Product).where(Product.code.in_(codes)))}


def _job_details(session: Session) -> dict[str, object]:
    run = session.scalars(select(JobRun).where(JobRun.job == "index").order_by(JobRun.id.desc())).first()
    assert run is not None and run.status == "ok", run and run.error
    return {key: run.details[key] for key in ("series", "refreshed", "days")}


def test_index_job_publishes_categories_and_baskets_then_extends_them_by_new_days(
    engine: Engine, session: Session, settings: Settings
) -> None:
    goods = _goods(session)
    for offset in range(10):
        store_observations(session, _prices(goods, DAY + dt.timedelta(days=offset), 1 + offset / 20))
    session.commit()

    assert execute_job("index", settings, engine, owner="host:1:test") == "ok"
    first = _job_details(session)
    keys = set(session.scalars(select(PriceIndexSeries.series_key)))
    # the categories of both goods, their parents, and the shipped basket holding them (retail only)
    assert {
        "category:vegetables|*|retail|geks_jevons",
        "category:leafy_vegetables|*|retail|geks_jevons",
        "category:meat_poultry_egg|*|retail|geks_jevons",
        "basket:livelihood|*|retail|geks_jevons",
    } <= keys
    assert not any("wholesale" in key for key in keys)
    # the shipped baskets have less than half their weight priced: series without days
    priced = set(session.scalars(select(PriceIndexSeries.series_key).join(PriceIndexValue).distinct()))
    assert priced == {key for key in keys if key.startswith("category:")}
    assert first == {"series": len(keys), "refreshed": len(priced), "days": 10 * len(priced)}

    # nothing new: the job computes nothing
    assert execute_job("index", settings, engine, owner="host:1:test") == "ok"
    assert _job_details(session) == {"series": len(keys), "refreshed": 0, "days": 0}

    # one new day: each series computes that day only, earlier values stay as they were
    before = {(row.series_id, row.date): row.value for row in session.scalars(select(PriceIndexValue))}
    store_observations(session, _prices(goods, DAY + dt.timedelta(days=10), 2.0))
    session.commit()
    assert execute_job("index", settings, engine, owner="host:1:test") == "ok"
    assert _job_details(session) == {"series": len(keys), "refreshed": len(priced), "days": len(priced)}
    session.expire_all()
    after = {(row.series_id, row.date): row.value for row in session.scalars(select(PriceIndexValue))}
    assert {key: after[key] for key in before} == before


def test_a_read_after_the_job_only_slices_stored_values(
    engine: Engine, session: Session, settings: Settings, client: TestClient
) -> None:
    goods = _goods(session)
    for offset in range(10):
        store_observations(session, _prices(goods, DAY + dt.timedelta(days=offset), 1 + offset / 20))
    session.commit()
    assert execute_job("index", settings, engine, owner="host:1:test") == "ok"
    computed = dict(session.execute(select(PriceIndexSeries.series_key, PriceIndexSeries.computed_at)).all())

    body = client.get("/api/prices/index", params={"category": "vegetables", "from": "2024-03-06"}).json()
    assert (body["base_period"], body["count"]) == ("2024-03-04", 8)
    assert body["data"][-1]["index"] == 145.0  # every price 1.45 times its first day's
    session.expire_all()
    assert dict(session.execute(select(PriceIndexSeries.series_key, PriceIndexSeries.computed_at)).all()) == (
        computed
    )
