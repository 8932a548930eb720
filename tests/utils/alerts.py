"""Factories for alerts, subscriptions and the catalogue rows they point at, in the real database."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import Alert, Association, Category, Merchant, Product, Subscription, User
from core.security import create_access_token, hash_password


@cache
def _password_hash() -> str:
    return hash_password("correct horse battery")


def staff_headers(
    session: Session, settings: Settings, username: str, role: str, association: Association | None
) -> dict[str, str]:
    """A staff account and a bearer token for it, without paying Argon2 per test (login is tested apart)."""
    user = User(
        username=username,
        role=role,
        password_hash=_password_hash(),
        association_id=association.id if association else None,
    )
    session.add(user)
    session.commit()
    token = create_access_token(subject=str(user.id), secret=settings.secret_key, minutes=60)
    return {"Authorization": f"Bearer {token}"}


def make_product(session: Session, name: str, category: str = "蔬菜") -> Product:
    product = session.scalar(select(Product).where(Product.name == name))
    if product is not None:
        return product
    group = session.scalar(select(Category).where(Category.name == category))
    if group is None:
        group = Category(code=f"cat-{uuid.uuid4().hex[:8]}", name=category)
        session.add(group)
        session.flush()
    product = Product(code=f"p-{uuid.uuid4().hex[:8]}", name=name, category_id=group.id, standard_unit="500g")
    session.add(product)
    session.commit()
    return product


def make_merchant(session: Session, name: str, industry: str, district: str = "南岗区") -> Merchant:
    merchant = session.scalar(select(Merchant).where(Merchant.name == name))
    if merchant is None:
        merchant = Merchant(name=name, industry=industry, district=district)
        session.add(merchant)
        session.commit()
    return merchant


EVIDENCE: dict[str, Any] = {
    "rule": {
        "id": "emergency-rise-10",
        "kind": "emergency_rise",
        "title": "紧急状态期间涨价超过10%",
        "citation": "California Penal Code §396",
        "threshold": 0.1,
    },
    "unit": "元/500g",
    "reference": {
        "value": 3.2,
        "window": {"from": "2020-01-14", "to": "2020-01-22"},
        "description": "紧急状态开始前7日内的最后价格",
    },
    "current": 6.4,
    "change": 1.0,
    "market_change": 0.05,
    "threshold": 0.1,
    "peers": {"date": "2020-02-01", "median": 3.4, "count": 5, "sample": []},
    "complaints": [],
    "series": {"dates": ["2020-02-01"], "value": [6.4]},
}


def make_alert(
    session: Session,
    *,
    merchant: Merchant | None,
    product: Product | None,
    severity: str = "high",
    region: str = "",
    status: str = "open",
    rule_id: str = "emergency-rise-10",
) -> Alert:
    alert = Alert(
        episode_key=uuid.uuid4().hex,
        rule_id=rule_id,
        kind="emergency_rise",
        merchant_id=merchant.id if merchant else None,
        product_id=product.id if product else None,
        region=region,
        industry=merchant.industry if merchant else None,
        start_date=dt.date(2020, 1, 28),
        end_date=dt.date(2020, 2, 1),
        severity=severity,
        status=status,
        evidence=EVIDENCE,
    )
    session.add(alert)
    session.commit()
    return alert


def make_subscription(session: Session, association: Association, **fields: Any) -> Subscription:
    values: dict[str, Any] = {"name": "默认订阅", "channels": ["inbox"], **fields}
    subscription = Subscription(association_id=association.id, **values)
    if "created_at" not in fields:
        subscription.created_at = dt.datetime(2000, 1, 1)
    session.add(subscription)
    session.commit()
    return subscription
