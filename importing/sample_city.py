"""Loading the generated sample city: markets and prices through ``core``, complaints through the intake.

Used by ``fairmarket demo``, benchmarks and tests that want a realistic database. Idempotent: loading
the same city twice adds nothing (prices by natural key, complaints by import key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from complaints.classification import get_classifier
from complaints.intake import create_complaint
from complaints.schemas import ComplaintCreate
from complaints.workflow import transition
from core.catalogue import seed_catalogue
from core.models import Complaint
from core.sample_city import (
    DEFAULT_SEED,
    SampleCity,
    SampleCitySummary,
    SampleComplaint,
    build_sample_city,
    generate_complaints,
    store_associations,
    store_merchants,
    store_prices,
)
from importing.complaints import import_key

SAMPLE_ACTOR = "sample-city"
STAFF_ACTOR = "消协工作人员"


def file_sample_complaints(session: Session, complaints: list[SampleComplaint]) -> int:
    """File complaints with their workflow history; returns how many were new."""
    classifier = get_classifier()
    keyed = []
    for sample in complaints:
        data = ComplaintCreate(
            text=sample.text,
            title=sample.title,
            merchant_name=sample.merchant_name,
            district=sample.district,
            nature=sample.nature,
            industry=sample.industry,
            amount=sample.amount,
            consumer_name=sample.consumer_name,
            contact=sample.contact,
            demands=sample.demands,
            product_category=sample.product_category,
        )
        keyed.append((import_key(data, sample.created_at), data, sample))
    existing = set(session.scalars(select(Complaint.import_key).where(Complaint.import_key.is_not(None))))
    filed = 0
    for key, data, sample in keyed:
        if key in existing:
            continue
        existing.add(key)
        complaint = create_complaint(
            session,
            data,
            channel="form",
            actor=SAMPLE_ACTOR,
            created_at=sample.created_at,
            import_key=key,
            classifier=classifier,
        )
        for to_status, at, note in sample.steps:
            transition(complaint, to_status, actor=STAFF_ACTOR, note=note, at=at)
            complaint.updated_at = at
        filed += 1
    session.flush()
    return filed


def load_sample_city(
    session: Session,
    *,
    end: dt.date,
    seed: int = DEFAULT_SEED,
    days: int = 180,
    complaints: int = 2000,
    on_step: Callable[[str], None] | None = None,
) -> tuple[SampleCity, SampleCitySummary]:
    """Seed the catalogue and write the whole city, committing after each part."""
    city = build_sample_city(end=end, days=days, seed=seed)
    summary = SampleCitySummary()

    def step(name: str) -> None:
        session.commit()
        if on_step is not None:
            on_step(name)

    seed_catalogue(session)
    summary.associations = store_associations(session, city)
    summary.merchants = len(store_merchants(session, city))
    step("catalogue, associations, merchants")
    summary.retail_prices, summary.wholesale_prices = store_prices(session, city)
    step("prices")
    summary.complaints = file_sample_complaints(session, generate_complaints(city, complaints))
    step("complaints")
    return city, summary
