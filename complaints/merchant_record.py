"""A merchant's public complaint record (the 黑猫投诉-style view): counts, response and resolution rates.

Counts alone favour small shops: a chain with forty outlets draws more complaints than a corner store
however well it treats people. So every figure comes with the same figure for the merchant's industry
(the median over merchants of that industry with complaints in the window), and rates are left out
when too few cases stand behind them.

* response rate: of the complaints the consumer association accepted, the share that reached mediation
  (the merchant came to the table);
* resolution rate: of the mediations that ended, the share that ended in agreement (调解成功).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import china_date
from core.models import Complaint, ComplaintEvent, Merchant

# Below this many cases a rate says more about chance than about the merchant.
MIN_CASES_FOR_RATE = 5


@dataclass(frozen=True)
class CaseCounts:
    complaints: int
    accepted: int
    mediated: int
    resolved: int
    ended_without_agreement: int

    @property
    def response_rate(self) -> float | None:
        return self.mediated / self.accepted if self.accepted >= MIN_CASES_FOR_RATE else None

    @property
    def resolution_rate(self) -> float | None:
        finished = self.resolved + self.ended_without_agreement
        return self.resolved / finished if finished >= MIN_CASES_FOR_RATE else None


@dataclass(frozen=True)
class MerchantRecord:
    merchant: Merchant
    since: dt.datetime
    counts: CaseCounts
    by_nature: dict[str, int]
    by_month: dict[str, int]
    industry_merchants: int
    industry_median_complaints: float | None
    industry_median_response_rate: float | None
    industry_median_resolution_rate: float | None


def _case_counts(statuses_by_complaint: dict[int, set[str]]) -> CaseCounts:
    reached = list(statuses_by_complaint.values())
    return CaseCounts(
        complaints=len(reached),
        accepted=sum("accepted" in steps for steps in reached),
        mediated=sum("mediating" in steps for steps in reached),
        resolved=sum("resolved" in steps for steps in reached),
        ended_without_agreement=sum("mediation_ended" in steps for steps in reached),
    )


def _statuses_reached(
    session: Session, merchant_ids: list[int], since: dt.datetime
) -> dict[int, dict[int, set[str]]]:
    """merchant id → complaint id → every status the complaint has been in."""
    rows = session.execute(
        select(Complaint.merchant_id, Complaint.id, ComplaintEvent.to_status)
        .join(ComplaintEvent, ComplaintEvent.complaint_id == Complaint.id)
        .where(Complaint.merchant_id.in_(merchant_ids), Complaint.created_at >= since)
    )
    reached: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for merchant_id, complaint_id, to_status in rows:
        if merchant_id is None:  # excluded by the IN above; says so to the type checker
            continue
        reached[merchant_id][complaint_id].add(to_status or "received")
    return reached


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def merchant_record(session: Session, *, merchant: Merchant, since: dt.datetime) -> MerchantRecord:
    """The merchant's complaints since ``since`` (naive UTC) and the same figures for its industry."""
    peers = list(
        session.scalars(
            select(Merchant.id).where(Merchant.industry == merchant.industry, Merchant.id != merchant.id)
        )
        if merchant.industry
        else []
    )
    reached = _statuses_reached(session, [merchant.id, *peers], since)
    counts = _case_counts(reached.get(merchant.id, {}))
    peer_counts = [_case_counts(reached[peer]) for peer in peers if reached.get(peer)]
    industry = [counts, *peer_counts] if counts.complaints else peer_counts
    own = session.execute(
        select(Complaint.nature, Complaint.created_at).where(
            Complaint.merchant_id == merchant.id, Complaint.created_at >= since
        )
    ).all()
    by_month = Counter(china_date(created_at).strftime("%Y-%m") for _, created_at in own)
    return MerchantRecord(
        merchant=merchant,
        since=since,
        counts=counts,
        by_nature=dict(Counter(nature for nature, _ in own if nature).most_common()),
        by_month=dict(sorted(by_month.items())),
        industry_merchants=len(industry),
        industry_median_complaints=_median([float(c.complaints) for c in industry]),
        industry_median_response_rate=_median([r for c in industry if (r := c.response_rate) is not None]),
        industry_median_resolution_rate=_median(
            [r for c in industry if (r := c.resolution_rate) is not None]
        ),
    )
