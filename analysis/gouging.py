"""Evaluate one gouging rule: pick its detector, feed it the goods and days it covers, group episodes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analysis.detectors import (
    detect_complaint_spikes,
    detect_emergency_rises,
    detect_market_surges,
    detect_markup_violations,
    detect_peer_outliers,
    detect_supply_shortages,
    empty_flags,
)
from analysis.episodes import group_episodes, severity_from_breach
from analysis.rules import EMERGENCY_KINDS, Emergency, Rule


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found: its flagged days and the episodes they form (with a ``severity`` column)."""

    rule: Rule
    flags: pd.DataFrame
    episodes: pd.DataFrame


def _covered(frame: pd.DataFrame, product_ids: frozenset[int] | None) -> pd.DataFrame:
    return frame if product_ids is None else frame[frame["product_id"].isin(product_ids)]


def flag_rule(
    rule: Rule,
    *,
    observations: pd.DataFrame,
    retail: pd.DataFrame,
    complaints: pd.DataFrame,
    product_ids: frozenset[int] | None,
    emergency: Emergency | None,
    start: dt.date,
    as_of: dt.date,
) -> pd.DataFrame:
    """Flagged days of one rule.

    Parameters
    ----------
    rule : Rule
    observations : DataFrame
        All observations (:data:`analysis.detectors.OBSERVATION_COLUMNS`).
    retail : DataFrame
        ``retail_with_market(observations)``.
    complaints : DataFrame
        Price complaints (``date``, ``merchant_id``, ``product_id``).
    product_ids : frozenset of int or None
        Goods the rule covers (None: all).
    emergency : Emergency or None
        The declared emergency of an emergency rule.
    start : date
        First day the observations and complaints were read from.
    as_of : date
        Last day judged.
    """
    params = rule.params
    if rule.kind in EMERGENCY_KINDS and emergency is None:
        raise ValueError(f"rule {rule.id}: an emergency rule needs its declared emergency")
    if emergency is not None and not emergency.overlaps(start, as_of):
        return empty_flags()
    if rule.kind in ("emergency_rise", "average_rise") and emergency is not None:
        return detect_emergency_rises(
            _covered(retail, product_ids),
            start=emergency.start,
            end=emergency.end,
            threshold=rule.threshold,
            reference_days=rule.reference_days,
            reference="last" if rule.kind == "emergency_rise" else "mean",
            inclusive=bool(params.get("inclusive", rule.kind == "average_rise")),
            net_of_market=bool(params.get("net_of_market", True)),
            lag_days=int(params.get("lag_days", 0)),
        )
    if rule.kind == "markup_ratio" and emergency is not None:
        return detect_markup_violations(
            _covered(observations, product_ids),
            start=emergency.start,
            end=emergency.end,
            threshold=rule.threshold,
            reference=params.get("reference", "wholesale"),
            reference_days=rule.reference_days,
            lag_days=int(params.get("lag_days", 0)),
        )
    if rule.kind == "peer_outlier":
        return detect_peer_outliers(
            _covered(retail, product_ids),
            threshold=rule.threshold,
            min_peers=int(params.get("min_peers", 5)),
            min_premium=float(params.get("min_premium", 0.25)),
            move_allowance=float(params.get("move_allowance", 1.0)),
            lag_days=int(params.get("lag_days", 0)),
        )
    if rule.kind == "market_surge":
        return detect_market_surges(
            _covered(retail, product_ids),
            window=rule.reference_days,
            threshold=rule.threshold,
            min_peers=int(params.get("min_peers", 3)),
            min_z=float(params.get("min_z", 4.0)),
            move_allowance=float(params.get("move_allowance", 1.0)),
            lag_days=int(params.get("lag_days", 0)),
        )
    if rule.kind == "complaint_spike":
        spikes = [
            detect_complaint_spikes(
                complaints if by == "merchant_id" else _covered(complaints, product_ids),
                by=by,
                start=start,
                end=as_of,
                window_days=int(params.get("window_days", 7)),
                baseline_days=rule.reference_days,
                threshold=rule.threshold,
                min_count=int(params.get("min_count", 3)),
            )
            for by in ("merchant_id", "product_id")
        ]
        non_empty = [flags for flags in spikes if not flags.empty]
        return pd.concat(non_empty, ignore_index=True) if non_empty else empty_flags()
    return detect_supply_shortages(
        _covered(observations, product_ids),
        baseline_days=rule.reference_days,
        threshold=rule.threshold,
        min_sellers=int(params.get("min_sellers", 5)),
        min_share=float(params.get("min_share", 0.5)),
    )


def evaluate_rule(
    rule: Rule,
    *,
    observations: pd.DataFrame,
    retail: pd.DataFrame,
    complaints: pd.DataFrame,
    product_ids: frozenset[int] | None,
    emergency: Emergency | None,
    start: dt.date,
    as_of: dt.date,
    max_gap_days: int = 1,
) -> RuleOutcome:
    """Flag, group into episodes, keep episodes of at least ``rule.min_days`` days, rate severity.

    Severity comes from the episode's largest breach and the rule's bands (see the rule file).
    """
    flags = flag_rule(
        rule,
        observations=observations,
        retail=retail,
        complaints=complaints,
        product_ids=product_ids,
        emergency=emergency,
        start=start,
        as_of=as_of,
    )
    flags = flags[flags["date"] <= pd.Timestamp(as_of)]
    episodes = group_episodes(flags, max_gap_days=max_gap_days)
    episodes = episodes[episodes["n_days"] >= rule.min_days].reset_index(drop=True)
    episodes = episodes.assign(severity=severity_from_breach(episodes["peak_breach"], rule.severity))
    return RuleOutcome(rule=rule, flags=flags, episodes=episodes)
