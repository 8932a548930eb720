"""The detection job: read prices and complaints, run the gouging rules, upsert one alert per episode.

An alert is one (rule, merchant, product, region, episode). A run finds every episode in its window
again, so an episode that goes on updates its alert (end date, evidence, severity only escalates) and
re-running a day changes nothing. A dismissed alert stays dismissed: its episode is left alone.
Delivery is not started here; the deliver job scans the alerts table by itself. One run at a time per
database (:func:`detection_lock`): the scheduler's job and ``fairmarket detect`` started together would
both find an episode new and raise it twice; the later run waits and then finds the alerts the earlier
one raised. The parts: ``jobs.detection_reads`` (what a run reads), ``analysis.evidence`` (the evidence,
pure), ``jobs.detection_alerts`` (the upsert and the lock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

from sqlalchemy.orm import Session

from analysis.detectors import retail_with_market
from analysis.evidence import EvidenceContext, build_evidence, with_confirmed_prices
from analysis.gouging import evaluate_rule
from analysis.rules import RULES_FILE, RuleSet, covered_product_ids
from analysis.variants import series_by_variant
from core.config import Settings
from core.models import Alert
from core.price_reads import read_observations
from jobs.detection_alerts import MAX_GAP_DAYS, detection_lock, existing_alerts, upsert_alert
from jobs.detection_reads import (
    latest_observation_date,
    read_catalogue,
    read_merchants,
    read_price_complaints,
    read_products,
    read_rules,
)
from jobs.price_checks import confirmed_prices

#: Days of history a run reads before ``as_of``: the longest baseline (56 + 7 days for complaint spikes,
#: 28 prices for market surges) with room for gaps and for episodes still going on.
LOOKBACK_DAYS = 120


@dataclass(frozen=True)
class DetectionResult:
    """An alert a run raised or updated."""

    alert_id: int
    action: Literal["raised", "updated"]
    rule: str
    merchant: str | None
    product: str | None
    region: str
    start_date: dt.date
    end_date: dt.date
    severity: str
    evidence: dict[str, Any] = field(repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "action": self.action,
            "rule": self.rule,
            "merchant": self.merchant,
            "product": self.product,
            "region": self.region,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "severity": self.severity,
            "evidence": self.evidence,
        }


# --- the job ---------------------------------------------------------------------------------------


def _load_window(ruleset: RuleSet, as_of: dt.date, since: dt.date | None = None) -> dt.date:
    """First day to read: the lookback before ``since`` (default ``as_of``), stretched back for
    emergencies in force within it."""
    start = (since or as_of) - dt.timedelta(days=LOOKBACK_DAYS)
    for rule in ruleset.enabled_rules:
        if rule.emergency is None:
            continue
        emergency = ruleset.emergency(rule.emergency)
        if emergency.overlaps(start, as_of):
            start = min(start, emergency.start - dt.timedelta(days=rule.reference_days))
    return start


#: Reports how far a run is: steps done, steps in all, what it is doing.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DetectionRun:
    """What a run judged (``since``..``as_of``) and the alerts it raised or updated."""

    since: dt.date
    as_of: dt.date
    results: list[DetectionResult]


class DetectionOptions(TypedDict, total=False):
    """The keyword options of :func:`run_detection_span`, which :func:`run_detection` passes on."""

    as_of: dt.date | None
    since: dt.date | None
    ruleset: RuleSet | None
    on_wait: Callable[[], None] | None
    on_progress: Progress | None


def run_detection(
    session: Session, settings: Settings, **options: Unpack[DetectionOptions]
) -> list[DetectionResult]:
    """Judge every day from ``since`` to ``as_of`` and upsert the alerts; return those raised or updated.

    ``as_of`` defaults to the newest observation date (today when there are none), so a run judges
    the data the platform has; ``since`` defaults to ``as_of`` (the daily run). See
    :func:`run_detection_span`.
    """
    return run_detection_span(session, settings, **options).results


def run_detection_span(
    session: Session,
    settings: Settings,
    *,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    ruleset: RuleSet | None = None,
    on_wait: Callable[[], None] | None = None,
    on_progress: Progress | None = None,
) -> DetectionRun:
    """Judge every day from ``since`` to ``as_of`` as the daily runs would have, in one pass.

    The detectors only look back (a day's flags depend on that day and earlier prices), so one pass
    over the prices from the lookback before ``since`` to ``as_of`` flags each day as the run of that
    day did; the episodes they form are upserted as day-by-day runs leave them (one alert per episode,
    spanning all its days, severity the highest reached). The prices are read once, whatever the span.
    The rules are ``gouging_rules.yaml`` in ``settings.data_dir`` when a deployment puts one there,
    else the shipped file. Runs under :func:`detection_lock` (``on_wait`` is called if another run
    holds it) and commits once at the end.
    """
    deployment_rules = settings.data_dir / RULES_FILE.name
    ruleset = ruleset or read_rules(deployment_rules if deployment_rules.is_file() else RULES_FILE)
    with detection_lock(session, on_wait=on_wait):
        as_of = as_of or latest_observation_date(session) or dt.date.today()
        since = min(since or as_of, as_of)
        results = _detect(session, ruleset, as_of, since, on_progress or _no_progress)
    return DetectionRun(since=since, as_of=as_of, results=results)


def _no_progress(done: int, total: int, doing: str) -> None:
    return None


def _detect(
    session: Session, ruleset: RuleSet, as_of: dt.date, since: dt.date, progress: Progress
) -> list[DetectionResult]:
    start = _load_window(ruleset, as_of, since)
    rules = ruleset.enabled_rules
    steps = len(rules) + 2
    progress(0, steps, "读取价格与投诉")
    # each variant (origin, spec, package) its own series: a switch from 鲁辽 to 冀 cucumbers is no jump
    observations = series_by_variant(read_observations(session, start=start, end=as_of, variants=True))
    complaints = read_price_complaints(session, start=start, end=as_of)
    catalogue = read_catalogue(session)
    retail = retail_with_market(observations)
    outcomes = []
    for done, rule in enumerate(rules, start=1):
        progress(done, steps, f"规则 {rule.id}")
        outcomes.append(
            evaluate_rule(
                rule,
                observations=observations,
                retail=retail,
                complaints=complaints,
                product_ids=None if rule.covers_all_goods else covered_product_ids(rule, catalogue),
                emergency=ruleset.emergency(rule.emergency) if rule.emergency else None,
                start=start,
                as_of=as_of,
                max_gap_days=MAX_GAP_DAYS,
            )
        )
    progress(len(rules) + 1, steps, "写入预警")
    products = read_products(session)
    context = EvidenceContext(ruleset, retail, complaints, products)
    context.index_series(outcome.episodes for outcome in outcomes)
    involved = {int(value) for outcome in outcomes for value in outcome.episodes["merchant_id"].dropna()}
    peers = {int(value) for rows in context.peer_rows.values() for value in rows["merchant_id"].dropna()}
    context.merchants = read_merchants(session, involved | peers)
    merchants = context.merchants
    existing = existing_alerts(session, [rule.id for rule in ruleset.rules], start)
    results: list[DetectionResult] = []
    changed: list[tuple[Alert, Literal["raised", "updated"]]] = []
    confirmed = confirmed_prices(session)
    for outcome in outcomes:
        for episode in outcome.episodes.itertuples(index=False):
            evidence = build_evidence(outcome, episode, context)
            episode = with_confirmed_prices(episode, evidence, confirmed)
            upserted = upsert_alert(session, outcome, episode, evidence, existing, merchants)
            if upserted is not None:
                changed.append(upserted)
    session.flush()
    for alert, action in changed:
        results.append(
            DetectionResult(
                alert_id=alert.id,
                action=action,
                rule=alert.rule_id,
                merchant=merchants.get(alert.merchant_id, (None, None))[0] if alert.merchant_id else None,
                product=products.get(alert.product_id, (None, None))[0] if alert.product_id else None,
                region=alert.region,
                start_date=alert.start_date,
                end_date=alert.end_date,
                severity=alert.severity,
                evidence=alert.evidence,
            )
        )
    session.commit()
    progress(steps, steps, "完成")
    return results
