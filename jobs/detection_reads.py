"""What a detection run reads from the database: rules, price complaints, the catalogue, merchants."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from analysis.rules import RULES_FILE, RuleError, RuleSet, parse_rules_text
from core.clock import CHINA_OFFSET, china_day_end, china_day_start
from core.models import Category, Complaint, Merchant, PriceObservation, Product

#: Complaint natures that count as price complaints.
PRICE_NATURES = ("价格/哄抬价格", "价格", "哄抬价格")


def read_rules(path: Path = RULES_FILE) -> RuleSet:
    """Read and validate a rule file; :class:`RuleError` says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read rule file {path}: {exc}") from exc
    return parse_rules_text(text, str(path))


def read_price_complaints(session: Session, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Price complaints filed on China days ``start``..``end``.

    ``created_at`` is stored as naive UTC; a complaint filed at 07:00 Beijing time belongs to that
    Beijing day, so days are counted in UTC+8 like the prices' days.

    Returns
    -------
    DataFrame
        ``date`` (the Beijing day), ``complaint_id``, ``merchant_id``, ``merchant_name``, ``product_id``.
    """
    first = china_day_start(start)
    after = china_day_end(end)
    rows = session.execute(
        select(
            Complaint.created_at,
            Complaint.id,
            Complaint.merchant_id,
            Complaint.merchant_name,
            Complaint.product_id,
        ).where(
            Complaint.nature.in_(PRICE_NATURES),
            Complaint.created_at >= first,
            Complaint.created_at < after,
        )
    ).all()
    frame = pd.DataFrame(
        rows, columns=["created_at", "complaint_id", "merchant_id", "merchant_name", "product_id"]
    )
    china_day = (pd.to_datetime(frame["created_at"]) + CHINA_OFFSET).dt.normalize()
    return frame.assign(date=china_day.astype("datetime64[ns]")).drop(columns="created_at")


def read_catalogue(session: Session) -> list[tuple[int, str, str, str, str]]:
    """(product_id, code, name, category code, category name) of every product; the category is the
    top-level one (蔬菜 for a good in 叶菜类), as detection settings name them, and None for a good not in
    one yet (a provisional good), which only rules covering all goods judge."""
    top = aliased(Category)
    rows = session.execute(
        select(
            Product.id,
            Product.code,
            Product.name,
            func.coalesce(top.code, Category.code),
            func.coalesce(top.name, Category.name),
        )
        .outerjoin(Product.category)
        .outerjoin(top, top.id == Category.parent_id)
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def read_merchants(session: Session, ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Name and industry of the given merchants, queried in chunks the drivers accept."""
    wanted = sorted(ids)
    found: dict[int, tuple[str, str | None]] = {}
    for first in range(0, len(wanted), 5000):
        chunk = wanted[first : first + 5000]
        statement = select(Merchant.id, Merchant.name, Merchant.industry).where(Merchant.id.in_(chunk))
        found.update({row.id: (row.name, row.industry) for row in session.execute(statement)})
    return found


def latest_observation_date(session: Session) -> dt.date | None:
    return session.scalar(select(func.max(PriceObservation.observed_date)))


def read_products(session: Session) -> dict[int, tuple[str, str]]:
    """Name and standard unit of every product, by id."""
    return {
        row.id: (row.name, row.standard_unit)
        for row in session.execute(select(Product.id, Product.name, Product.standard_unit))
    }
