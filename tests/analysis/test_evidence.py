"""Evidence building is pure: an episode row and confirmed price checks in, evidence and severity out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

from analysis.evidence import EpisodeIdentity, episode_identity, with_confirmed_prices
from analysis.rules import SEVERITIES


class Episode(NamedTuple):
    merchant_id: Any
    product_id: Any
    region: Any
    start_date: pd.Timestamp
    end_date: pd.Timestamp
    severity: str


@dataclass
class Check:
    complaint_id: int
    shown_price: float | None
    market_median: float | None
    complained_price: float | None
    checked_at: dt.datetime | None


def test_an_episode_row_names_its_seller_good_region_and_days() -> None:
    row = Episode(7.0, pd.NA, "南岗区", pd.Timestamp("2026-06-01"), pd.Timestamp("2026-06-04"), "low")
    assert episode_identity(row) == EpisodeIdentity(
        7, None, "南岗区", dt.date(2026, 6, 1), dt.date(2026, 6, 4)
    )


def test_a_confirmed_price_joins_the_evidence_and_raises_severity_one_level() -> None:
    row = Episode(7, 3, "南岗区", pd.Timestamp("2026-06-01"), pd.Timestamp("2026-06-04"), SEVERITIES[0])
    evidence: dict[str, Any] = {"complaints": [11, 12]}
    check = Check(12, 9.5, 6.0, 9.0, dt.datetime(2026, 6, 3, 2, 30))
    raised = with_confirmed_prices(row, evidence, {12: check, 99: check})
    assert raised.severity == SEVERITIES[1]
    assert evidence["confirmed_prices"] == [
        {
            "complaint": 12,
            "shown_price": 9.5,
            "market_median": 6.0,
            "complained_price": 9.0,
            "checked_at": "2026-06-03T02:30:00",
        }
    ]
    top = row._replace(severity=SEVERITIES[-1])
    assert with_confirmed_prices(top, {"complaints": [12]}, {12: check}).severity == SEVERITIES[-1]


def test_no_confirmed_price_leaves_episode_and_evidence_alone() -> None:
    row = Episode(7, 3, "南岗区", pd.Timestamp("2026-06-01"), pd.Timestamp("2026-06-04"), SEVERITIES[0])
    evidence: dict[str, Any] = {"complaints": [11]}
    assert with_confirmed_prices(row, evidence, {12: Check(12, 1.0, 1.0, None, None)}) is row
    assert evidence == {"complaints": [11]}
