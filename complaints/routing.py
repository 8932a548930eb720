"""Which trade association a complaint falls to: the one whose industries include its industry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Association


def association_for_industry(session: Session, industry: str | None) -> Association | None:
    """The trade association (not the consumer association) covering ``industry``; lowest id wins.

    Industries are a JSON list per association and there are a few dozen associations, so the
    match is made here rather than with a dialect-specific JSON query.
    """
    if not industry:
        return None
    associations = session.scalars(
        select(Association).where(Association.is_consumer_association.is_(False)).order_by(Association.id)
    )
    return next((a for a in associations if industry in (a.industries or [])), None)
