"""Writing the sample city: markets and prices through ``core``, complaints through the intake.

Used by ``fairmarket demo``, benchmarks and tests that want a realistic database. Idempotent: loading
the same city twice adds nothing (associations by code, merchants by name, prices by natural key,
complaints by import key).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from complaints.classification import get_classifier
from complaints.intake import create_complaint
from complaints.schemas import ComplaintCreate
from complaints.workflow import transition
from core.catalogue import seed_catalogue
from core.models import Association, Complaint, Merchant, Product
from core.prices import PriceInput, store_observations
from importing.complaints import import_key
from sample_city.complaint_generation import SampleComplaint, generate_complaints
from sample_city.market import DEFAULT_SEED, SampleCity, build_sample_city
from sample_city.price_simulation import generate_prices

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SAMPLE_ACTOR = "sample-city"
STAFF_ACTOR = "消协工作人员"


@dataclass
class SampleCitySummary:
    associations: int = 0
    merchants: int = 0
    retail_prices: int = 0
    wholesale_prices: int = 0
    complaints: int = 0
    extras: dict[str, int] = field(default_factory=dict)


def credit_code(rng: random.Random) -> str:
    """A unified social credit code of the right shape (9123 = enterprise, Harbin)."""
    return (
        "912301"
        + "".join(rng.choice("0123456789") for _ in range(2))
        + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(10))
    )


def store_associations(session: Session, city: SampleCity) -> int:
    """Create the associations that do not exist yet (matched by code); returns how many were added."""
    existing = set(session.scalars(select(Association.code)))
    added = [
        Association(
            code=a.code,
            name=a.name,
            industries=list(a.industries),
            is_consumer_association=a.is_consumer_association,
        )
        for a in city.associations
        if a.code not in existing
    ]
    session.add_all(added)
    session.flush()
    return len(added)


def store_merchants(session: Session, city: SampleCity) -> dict[str, Merchant]:
    rng = random.Random(city.seed)
    merchants = {m.name: m for m in session.scalars(select(Merchant))}
    for sample in city.merchants:
        code = credit_code(rng)
        if sample.name not in merchants:
            merchant = Merchant(
                name=sample.name,
                credit_code=code,
                kind=sample.kind,
                industry=sample.industry,
                district=sample.district,
                address=sample.address,
            )
            session.add(merchant)
            merchants[sample.name] = merchant
    session.flush()
    return merchants


def store_prices(session: Session, city: SampleCity, batch_size: int = 5000) -> tuple[int, int]:
    """Write every observation (idempotent); returns (retail stored, wholesale stored)."""
    products = {
        p.code: p
        for p in session.scalars(select(Product).where(Product.code.in_([g.code for g in city.goods])))
    }
    missing = {g.code for g in city.goods} - set(products)
    if missing:
        raise LookupError(f"catalogue lacks {sorted(missing)}: seed the catalogue first")
    retail = wholesale = 0
    batch: list[PriceInput] = []
    for observation in generate_prices(city, products):
        batch.append(observation)
        if len(batch) >= batch_size:
            stored = _store(session, batch)
            retail, wholesale = retail + stored[0], wholesale + stored[1]
    stored = _store(session, batch)
    return retail + stored[0], wholesale + stored[1]


def _store(session: Session, batch: list[PriceInput]) -> tuple[int, int]:
    retail = [o for o in batch if o.price_type == "retail"]
    wholesale = [o for o in batch if o.price_type == "wholesale"]
    counts = store_observations(session, retail)[0], store_observations(session, wholesale)[0]
    batch.clear()
    return counts


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
