"""Loading the sample city writes markets, prices and complaints once, routed to their associations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Association, Complaint, Merchant, PriceObservation
from sample_city.seeding import load_sample_city

END = dt.date(2026, 6, 30)


def test_load_sample_city_is_idempotent(session: Session) -> None:
    _, summary = load_sample_city(session, end=END, days=10, complaints=60)
    assert (summary.associations, summary.merchants, summary.complaints) == (9, 20, 60)
    assert summary.retail_prices > 10 * 300 and summary.wholesale_prices == 10 * 35
    _, again = load_sample_city(session, end=END, days=10, complaints=60)
    assert (again.associations, again.retail_prices, again.wholesale_prices, again.complaints) == (0, 0, 0, 0)
    counts = [
        session.scalar(select(func.count()).select_from(m)) for m in (Merchant, PriceObservation, Complaint)
    ]
    assert counts == [20, summary.retail_prices + summary.wholesale_prices, 60]


def test_sample_complaints_are_routed_and_have_history(session: Session) -> None:
    load_sample_city(session, end=END, days=10, complaints=60)
    consumer = session.scalars(select(Association).where(Association.is_consumer_association.is_(True))).one()
    assert consumer.name == "哈尔滨市消费者协会"
    complaints = session.scalars(select(Complaint)).all()
    routed = [c for c in complaints if c.association_id is not None]
    assert len(routed) >= 0.8 * len(complaints)
    assert all(c.association_id != consumer.id for c in routed)
    moved = [c for c in complaints if c.status != "received"]
    assert moved and all(len(c.events) >= 2 for c in moved)
    assert all(c.events[0].at == c.created_at for c in complaints)
