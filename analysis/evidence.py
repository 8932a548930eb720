"""The evidence an alert carries, built from a rule's outcome and the run's prices and complaints.

Pure pandas: the detection job (``jobs.detection``) reads the frames and writes the alerts; this module
only turns an episode into the JSON a reviewer reads (rule, reference and its window, current value,
change, peers, linked complaints, the price series around the episode).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd

from analysis.detectors import MARKET_KEYS, SERIES_KEYS
from analysis.episodes import series_excerpt
from analysis.gouging import RuleOutcome
from analysis.rules import (
    EMERGENCY_KINDS,
    SEVERITIES,
    ComplaintSpikeParams,
    MarketSurgeParams,
    PeerOutlierParams,
    Rule,
    RuleSet,
)

#: Days before an episode in which a complaint still links to it.
COMPLAINT_LEAD_DAYS = 7
PEER_SAMPLE = 5
#: Days of prices shown before an episode in its chart excerpt.
SERIES_PAD_DAYS = 14


class ConfirmedPrice(Protocol):
    """A price a seller's page showed for a complained good, above the market median (a price check)."""

    complaint_id: int
    shown_price: float | None
    market_median: float | None
    complained_price: float | None
    checked_at: dt.datetime | None


class EpisodeIdentity(NamedTuple):
    """Who and what an episode is about, and when: how alerts find it again."""

    merchant_id: int | None
    product_id: int | None
    region: str
    start: dt.date
    end: dt.date


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def _day(value: pd.Timestamp) -> dt.date:
    return pd.Timestamp(value).date()


def _optional_id(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def episode_identity(episode: Any) -> EpisodeIdentity:
    """The identity of a row of a rule outcome's episodes (ids may be missing: NaN/NA there)."""
    return EpisodeIdentity(
        _optional_id(episode.merchant_id),
        _optional_id(episode.product_id),
        str(episode.region),
        _day(episode.start_date),
        _day(episode.end_date),
    )


@dataclass
class EvidenceContext:
    """What evidence is built from, gathered once per run."""

    ruleset: RuleSet
    retail: pd.DataFrame
    complaints: pd.DataFrame
    products: dict[int, tuple[str, str]]
    merchants: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    seller_series: dict[tuple[Any, ...], pd.DataFrame] = field(default_factory=dict)
    market_series: dict[tuple[Any, ...], pd.Series] = field(default_factory=dict)
    peer_rows: dict[tuple[Any, ...], pd.DataFrame] = field(default_factory=dict)

    def index_series(self, episodes: Iterable[pd.DataFrame]) -> None:
        """Slice the retail rows the episodes' charts and peer lists need, in a few passes."""
        frames = [frame for frame in episodes if not frame.empty]
        if not frames or self.retail.empty:
            return
        keys = pd.concat(frames)[[*SERIES_KEYS, "start_date", "end_date"]].dropna(subset=["product_id"])
        keys = keys.astype({"product_id": "int64", "region": "object"})
        earliest = keys["start_date"].min() - pd.Timedelta(days=SERIES_PAD_DAYS)
        retail = self.retail
        wanted = retail.loc[
            retail["product_id"].isin(set(keys["product_id"])) & (retail["date"] >= earliest),
            [*MARKET_KEYS, "merchant_id", "unit_price", "market_log_price"],
        ]
        wanted = wanted.assign(region=wanted["region"].astype(str))
        market = np.exp(wanted.groupby(MARKET_KEYS)["market_log_price"].first())
        for (product, region), rows in market.groupby(level=["product_id", "region"]):
            self.market_series[(int(product), str(region))] = rows.droplevel(["product_id", "region"])
        sellers = keys.dropna(subset=["merchant_id"])[SERIES_KEYS].drop_duplicates()
        sellers = sellers.astype({"merchant_id": "Int64"})
        for (merchant, product, region), rows in wanted.merge(sellers, on=SERIES_KEYS).groupby(SERIES_KEYS):
            self.seller_series[(int(merchant), int(product), str(region))] = rows[["date", "unit_price"]]
        ends = (
            keys[["product_id", "region", "end_date"]].rename(columns={"end_date": "date"}).drop_duplicates()
        )
        for (product, region, day), rows in wanted.merge(ends, on=MARKET_KEYS).groupby(MARKET_KEYS):
            self.peer_rows[(int(product), str(region), pd.Timestamp(day))] = rows

    def linked_complaints(
        self, merchant_id: int | None, product_id: int | None, start: dt.date, end: dt.date
    ) -> list[int]:
        complaints = self.complaints
        if complaints.empty:
            return []
        in_window = (complaints["date"] >= pd.Timestamp(start - dt.timedelta(days=COMPLAINT_LEAD_DAYS))) & (
            complaints["date"] <= pd.Timestamp(end)
        )
        if merchant_id is not None:
            name = self.merchants.get(merchant_id, ("", None))[0]
            names_merchant = (complaints["merchant_id"] == merchant_id) | (
                complaints["merchant_name"] == name
            )
            same_product = (
                complaints["product_id"].isna()
                | (product_id is None)
                | (complaints["product_id"] == product_id)
            )
            mask = in_window & names_merchant & same_product
        else:
            mask = in_window & (complaints["product_id"] == product_id)
        return sorted(int(value) for value in complaints.loc[mask, "complaint_id"])

    def peers(
        self, product_id: int | None, region: str, day: pd.Timestamp, merchant_id: int | None
    ) -> dict[str, Any]:
        rows = self.peer_rows.get((product_id, region, pd.Timestamp(day)))
        if rows is None:
            return {"date": _day(day).isoformat(), "median": None, "count": 0, "sample": []}
        others = rows[rows["merchant_id"] != merchant_id] if merchant_id is not None else rows
        sample = others.sort_values(["unit_price", "merchant_id"], ascending=[False, True]).head(PEER_SAMPLE)
        return {
            "date": _day(day).isoformat(),
            "median": _number(np.exp(rows["market_log_price"].iloc[0])),
            "count": len(rows),
            "sample": [
                {
                    "merchant": self.merchants.get(int(row.merchant_id), (str(row.merchant_id), None))[0],
                    "price": _number(row.unit_price),
                }
                for row in sample.itertuples()
                if not pd.isna(row.merchant_id)
            ],
        }


def _reference_window(
    rule: Rule, ruleset: RuleSet, start: dt.date, end: dt.date
) -> tuple[dt.date, dt.date, str]:
    if rule.kind in EMERGENCY_KINDS and rule.emergency:
        emergency = ruleset.emergency(rule.emergency)
        before = emergency.start - dt.timedelta(days=1)
        if rule.kind == "markup_ratio":
            return start, end, "同日批发价（进销差价率 =（零售价 − 批发价）/ 批发价）"
        first = emergency.start - dt.timedelta(days=rule.reference_days)
        how = "最后价格" if rule.kind == "emergency_rise" else "平均价格"
        return first, before, f"紧急状态（{emergency.name}）开始前{rule.reference_days}日内的{how}"
    lag_days = rule.params.lag_days if isinstance(rule.params, PeerOutlierParams | MarketSurgeParams) else 0
    market_level = (
        f"当日及此前{lag_days}日市场水平（零售中位数或按批发价与常态毛利折算）的最高值"
        if lag_days
        else "当日市场水平（零售中位数或按批发价与常态毛利折算）的较高值"
    )
    if rule.kind == "peer_outlier":
        return (
            end - dt.timedelta(days=lag_days),
            end,
            f"同一地区同日同一商品其他经营者价格的中位数；若{market_level}更高，取其高者",
        )
    if rule.kind == "market_surge":
        first = start - dt.timedelta(days=rule.reference_days * 2)
        return (
            first,
            start - dt.timedelta(days=1),
            f"该经营者此前{rule.reference_days}次报价相对市场中位数的常态位置，按{market_level}折算",
        )
    if rule.kind == "complaint_spike":
        window = rule.params.window_days if isinstance(rule.params, ComplaintSpikeParams) else 0
        last = end - dt.timedelta(days=window)
        return (
            last - dt.timedelta(days=rule.reference_days - 1),
            last,
            "此前的价格投诉基线（按日均折算为期望件数）",
        )
    return (
        start - dt.timedelta(days=rule.reference_days),
        start - dt.timedelta(days=1),
        "此前缺货比例的中位数",
    )


def build_evidence(outcome: RuleOutcome, episode: Any, context: EvidenceContext) -> dict[str, Any]:
    """The evidence an alert carries: rule, reference, current value, change, peers, complaints, series."""
    rule = outcome.rule
    merchant_id, product_id, region, start, end = episode_identity(episode)
    first, last, description = _reference_window(rule, context.ruleset, start, end)
    flags = outcome.flags
    episode_flags = flags[
        (flags["date"] >= episode.start_date)
        & (flags["date"] <= episode.end_date)
        & (flags["region"].astype("object").fillna("") == region)
        & (flags["merchant_id"].isna() if merchant_id is None else flags["merchant_id"] == merchant_id)
        & (flags["product_id"].isna() if product_id is None else flags["product_id"] == product_id)
    ]
    reference_line = episode_flags.groupby("date")["reference"].last()
    seller = context.seller_series.get((merchant_id, product_id, region))
    if seller is not None:
        series = series_excerpt(
            seller,
            context.market_series.get((product_id, region), pd.Series(dtype="float64")),
            reference_line,
            start=episode.start_date,
            end=episode.end_date,
            pad_days=SERIES_PAD_DAYS,
        )
    else:
        values = episode_flags.groupby("date")["current"].last()
        series = {
            "dates": [_day(day).isoformat() for day in values.index],
            "value": [_number(value) for value in values],
            "reference": [_number(value) for value in reference_line.reindex(values.index)],
        }
    emergency = context.ruleset.emergency(rule.emergency) if rule.emergency else None
    unit = context.products.get(product_id, ("", ""))[1] if product_id is not None else ""
    return {
        "rule": {
            "id": rule.id,
            "kind": rule.kind,
            "title": rule.title,
            "citation": rule.citation,
            "threshold": rule.threshold,
            "emergency": None
            if emergency is None
            else {"id": emergency.id, "name": emergency.name, "start": emergency.start.isoformat()},
        },
        "unit": f"元/{unit}" if unit else "",
        "reference": {
            "value": _number(episode.reference),
            "window": {"from": first.isoformat(), "to": last.isoformat()},
            "description": description,
        },
        "current": _number(episode.current),
        "change": _number(episode.change),
        "peak_change": _number(episode.peak_change),
        "market_change": _number(episode.market_change),
        "threshold": rule.threshold,
        "breach": _number(episode.peak_breach),
        "days": int(episode.n_days),
        "peers": context.peers(product_id, region, episode.end_date, merchant_id),
        "complaints": context.linked_complaints(merchant_id, product_id, start, end),
        "series": series,
    }


def with_confirmed_prices(
    episode: Any, evidence: dict[str, Any], confirmed: Mapping[int, ConfirmedPrice]
) -> Any:
    """Linked complaints whose seller's page showed a price above the market median are stronger
    evidence: they go into the evidence and raise the episode's severity one level."""
    checks = [confirmed[cid] for cid in evidence.get("complaints") or [] if cid in confirmed]
    if not checks:
        return episode
    evidence["confirmed_prices"] = [
        {
            "complaint": check.complaint_id,
            "shown_price": check.shown_price,
            "market_median": check.market_median,
            "complained_price": check.complained_price,
            "checked_at": check.checked_at.isoformat(timespec="seconds") if check.checked_at else None,
        }
        for check in checks
    ]
    level = SEVERITIES.index(str(episode.severity))
    return episode._replace(severity=SEVERITIES[min(level + 1, len(SEVERITIES) - 1)])
