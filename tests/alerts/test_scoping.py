"""Property: over many random alerts, routed complaints and subscriptions, a subscriber receives
exactly what lies inside its own subscription — never one outside, and none missing."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.enqueue import enqueue_pending
from core.models import Alert, Association, Complaint, Delivery, Merchant, Product, Subscription
from tests.utils.alerts import make_alert, make_merchant, make_product, make_subscription
from tests.utils.auth import make_association

INDUSTRIES = ["supermarket", "pharmacy", "catering", "farm_market"]
DISTRICTS = ["道里区", "南岗区", "道外区", "香坊区"]
GOODS = [("猪肉", "肉类"), ("鸡蛋", "蛋类"), ("大白菜", "蔬菜"), ("口罩", "防疫用品"), ("大米", "粮油")]
SEVERITIES = ["low", "medium", "high", "critical"]


def _sample(rng: random.Random, values: list[object]) -> list[object]:
    return rng.sample(values, rng.randint(1, min(2, len(values)))) if rng.random() < 0.6 else []


def inside(
    subscription: Subscription,
    association: Association,
    alert: Alert,
    merchant: Merchant | None,
    product: Product | None,
) -> bool:
    """The promise, stated directly: what a subscription (of this association) covers."""
    industries = subscription.industries or (
        [] if association.is_consumer_association else association.industries
    )
    if industries and alert.industry not in industries:
        return False
    if subscription.products or subscription.categories:
        wanted = product is not None and (
            product.id in subscription.products or product.category_id in subscription.categories
        )
        if not wanted:
            return False
    district = (merchant.district if merchant else None) or alert.region or None
    if subscription.districts and district not in subscription.districts:
        return False
    return SEVERITIES.index(alert.severity) >= SEVERITIES.index(subscription.min_severity)


def complaint_inside(
    subscription: Subscription, association: Association, complaint: Complaint, session: Session
) -> bool:
    """Complaints carry no severity; the other filters read as for alerts."""
    industries = subscription.industries or association.industries
    if industries and complaint.industry not in industries:
        return False
    if subscription.products or subscription.categories:
        product = session.get(Product, complaint.product_id) if complaint.product_id else None
        if product is None or not (
            product.id in subscription.products or product.category_id in subscription.categories
        ):
            return False
    return not subscription.districts or complaint.district in subscription.districts


@pytest.mark.parametrize("seed", range(4))
def test_subscribers_receive_exactly_the_alerts_inside_their_subscriptions(
    session: Session, seed: int
) -> None:
    rng = random.Random(seed)
    products = [make_product(session, name, category) for name, category in GOODS]
    merchants = [
        make_merchant(session, f"商户{index}", rng.choice(INDUSTRIES), rng.choice(DISTRICTS))
        for index in range(12)
    ]
    associations = [make_association(session, "xiaoxie", [], consumer=True)] + [
        make_association(session, f"assoc{index}", rng.sample(INDUSTRIES, rng.randint(1, 2)))
        for index in range(5)
    ]
    subscriptions = []
    for _ in range(14):
        association = rng.choice(associations)
        own = association.industries or INDUSTRIES
        subscriptions.append(
            make_subscription(
                session,
                association,
                channels=["inbox", "webhook"],
                webhook_url="http://127.0.0.1:9/",
                industries=_sample(rng, list(own)),
                products=[p.id for p in _sample(rng, list(products))],  # type: ignore[attr-defined]
                categories=[p.category_id for p in _sample(rng, list(products))],  # type: ignore[attr-defined]
                districts=_sample(rng, list(DISTRICTS)),
                min_severity=rng.choice(SEVERITIES),
            )
        )
    alerts = [
        make_alert(
            session,
            merchant=rng.choice([*merchants, None]),
            product=rng.choice([*products, None]),
            severity=rng.choice(SEVERITIES),
            region=rng.choice(["", *DISTRICTS]),
        )
        for _ in range(150)
    ]

    complaints = []
    for index in range(60):
        association = rng.choice(associations[1:])
        product = rng.choice([*products, None])
        complaint = Complaint(
            tracking_code=f"TS-P{seed}-{index:04d}",
            text="价格投诉",
            industry=rng.choice(INDUSTRIES),
            association_id=association.id,
            product_id=product.id if product else None,
            district=rng.choice([None, *DISTRICTS]),
            status=rng.choice(["received", "accepted", "mediating", "closed"]),
        )
        session.add(complaint)
        complaints.append(complaint)
    session.commit()

    enqueue_pending(session)

    by_id = {a.id: a for a in associations}
    delivered = {
        (row.alert_id, row.subscription_id)
        for row in session.scalars(
            select(Delivery).where(Delivery.channel == "webhook", Delivery.alert_id.is_not(None))
        )
    }
    promised = {
        (alert.id, subscription.id)
        for alert in alerts
        for subscription in subscriptions
        if inside(subscription, by_id[subscription.association_id], alert, alert.merchant, alert.product)
    }
    assert delivered == promised
    assert 0 < len(promised) < len(alerts) * len(subscriptions)
    inbox = {
        (row.alert_id, row.association_id)
        for row in session.scalars(
            select(Delivery).where(Delivery.channel == "inbox", Delivery.alert_id.is_not(None))
        )
    }
    assert inbox == {
        (alert_id, by_id[next(s for s in subscriptions if s.id == sid).association_id].id)
        for alert_id, sid in promised
    }

    complaint_deliveries = {
        (row.complaint_id, row.subscription_id)
        for row in session.scalars(
            select(Delivery).where(Delivery.channel == "webhook", Delivery.complaint_id.is_not(None))
        )
    }
    promised_complaints = {
        (complaint.id, subscription.id)
        for complaint in complaints
        if complaint.status != "closed"
        for subscription in subscriptions
        if subscription.association_id == complaint.association_id
        and complaint_inside(subscription, by_id[subscription.association_id], complaint, session)
    }
    assert complaint_deliveries == promised_complaints and promised_complaints
    complaint_inboxes = {
        (row.complaint_id, row.association_id)
        for row in session.scalars(
            select(Delivery).where(Delivery.channel == "inbox", Delivery.complaint_id.is_not(None))
        )
    }
    assert complaint_inboxes == {(c.id, c.association_id) for c in complaints if c.status != "closed"}
