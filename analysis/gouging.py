"""Evaluate one gouging rule: pick its detector, feed it the goods and days it covers, group episodes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
from analysis.rules import (
    EMERGENCY_KINDS,
    PARAMS_BY_KIND,
    ComplaintSpikeParams,
    Emergency,
    EmergencyRiseParams,
    MarketSurgeParams,
    MarkupRatioParams,
    PeerOutlierParams,
    Rule,
    RuleParams,
    SupplyShortageParams,
)


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found: its flagged days and the episodes they form (with a ``severity`` column)."""

    rule: Rule
    flags: pd.DataFrame
    episodes: pd.DataFrame


def _covered(frame: pd.DataFrame, product_ids: frozenset[int] | None) -> pd.DataFrame:
    return frame if product_ids is None else frame[frame["product_id"].isin(product_ids)]


@dataclass(frozen=True)
class RuleInputs:
    """What a detector may read: all observations, the retail view, price complaints and the period."""

    observations: pd.DataFrame
    retail: pd.DataFrame
    complaints: pd.DataFrame
    product_ids: frozenset[int] | None
    emergency: Emergency | None
    start: dt.date
    as_of: dt.date


def _price_rise(rule: Rule, params: RuleParams, inputs: RuleInputs) -> pd.DataFrame:
    assert isinstance(params, EmergencyRiseParams) and inputs.emergency is not None
    return detect_emergency_rises(
        _covered(inputs.retail, inputs.product_ids),
        start=inputs.emergency.start,
        end=inputs.emergency.end,
        threshold=rule.threshold,
        reference_days=rule.reference_days,
        reference="last" if rule.kind == "emergency_rise" else "mean",
        inclusive=params.inclusive,
        net_of_market=params.net_of_market,
        lag_days=params.lag_days,
    )


def _markup_ratio(rule: Rule, params: RuleParams, inputs: RuleInputs) -> pd.DataFrame:
    assert isinstance(params, MarkupRatioParams) and inputs.emergency is not None
    return detect_markup_violations(
        _covered(inputs.observations, inputs.product_ids),
        start=inputs.emergency.start,
        end=inputs.emergency.end,
        threshold=rule.threshold,
        reference=params.reference,
        reference_days=rule.reference_days,
        lag_days=params.lag_days,
    )


def _peer_outlier(rule: Rule, params: RuleParams, inputs: RuleInputs) -> pd.DataFrame:
    assert isinstance(params, PeerOutlierParams)
    return detect_peer_outliers(
        _covered(inputs.retail, inputs.product_ids),
        threshold=rule.threshold,
        min_peers=params.min_peers,
        min_premium=params.min_premium,
        move_allowance=params.move_allowance,
        lag_days=params.lag_days,
    )


def _market_surge(rule: Rule, params: RuleParams, inputs: RuleInputs) -> pd.DataFrame:
    assert isinstance(params, MarketSurgeParams)
    return detect_market_surges(
        _covered(inputs.retail, inputs.product_ids),
        window=rule.reference_days,
        threshold=rule.threshold,
        min_peers=params.min_peers,
        min_z=params.min_z,
        move_allowance=params.move_allowance,
        lag_days=params.lag_days,
    )


def _complaint_spike(rule: Rule, params: RuleParams, inputs: RuleInputs) -> pd.DataFrame:
    """Spikes per merchant (all goods) and per covered good."""
    assert isinstance(params, ComplaintSpikeParams)
    spikes = [
        detect_complaint_spikes(
            inputs.complaints if by == "merchant_id" else _covered(inputs.complaints, inputs.product_ids),
            by=by,
            start=inputs.start,
            end=inputs.as_of,
            window_days=params.window_days,
            baseline_days=rule.reference_days,
            threshold=rule.threshold,
            min_count=params.min_count,
        )
        for by in ("merchant_id", "product_id")
    ]
    non_empty = [flags for flags in spikes if not flags.empty]
    return pd.concat(non_empty, ignore_index=True) if non_empty else empty_flags()


def _supply_shortage(rule: Rule, params: RuleParams, inputs: RuleInputs) -> pd.DataFrame:
    assert isinstance(params, SupplyShortageParams)
    return detect_supply_shortages(
        _covered(inputs.observations, inputs.product_ids),
        baseline_days=rule.reference_days,
        threshold=rule.threshold,
        min_sellers=params.min_sellers,
        min_share=params.min_share,
    )


Detector = Callable[[Rule, RuleParams, RuleInputs], pd.DataFrame]


@dataclass(frozen=True)
class RuleKindSpec:
    """How a rule kind is evaluated: its detector and the model its ``params`` are validated against."""

    detect: Detector
    params: type[RuleParams]


#: Every rule kind: its detector and parameters model (``PARAMS_BY_KIND`` validates the rule file).
RULE_KINDS: dict[str, RuleKindSpec] = {
    kind: RuleKindSpec(detect, PARAMS_BY_KIND[kind])
    for kind, detect in {
        "emergency_rise": _price_rise,
        "average_rise": _price_rise,
        "markup_ratio": _markup_ratio,
        "peer_outlier": _peer_outlier,
        "market_surge": _market_surge,
        "complaint_spike": _complaint_spike,
        "supply_shortage": _supply_shortage,
    }.items()
}


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
        All observations (observation columns, see :mod:`analysis.detectors`).
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
    if rule.kind in EMERGENCY_KINDS and emergency is None:
        raise ValueError(f"rule {rule.id}: an emergency rule needs its declared emergency")
    if emergency is not None and not emergency.overlaps(start, as_of):
        return empty_flags()
    inputs = RuleInputs(observations, retail, complaints, product_ids, emergency, start, as_of)
    return RULE_KINDS[rule.kind].detect(rule, rule.params, inputs)


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
