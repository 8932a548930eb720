"""The detection job: read prices and complaints, run the gouging rules, upsert one alert per episode.

An alert is one (rule, merchant, product, region, episode). A run finds every episode in its window
again, so an episode that goes on updates its alert (end date, evidence, severity only escalates) and
re-running a day changes nothing. A dismissed alert stays dismissed: its episode is left alone.
Delivery is not started here; the deliver job scans the alerts table by itself. One run at a time per
database (:func:`detection_lock`): the scheduler's job and ``fairmarket detect`` started together would
both find an episode new and raise it twice; the later run waits and then finds the alerts the earlier
one raised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from analysis.detectors import MARKET_KEYS, SERIES_KEYS, retail_with_market
from analysis.episodes import series_excerpt
from analysis.gouging import RuleOutcome, evaluate_rule
from analysis.rules import (
    EMERGENCY_KINDS,
    RULES_FILE,
    SEVERITIES,
    ComplaintSpikeParams,
    MarketSurgeParams,
    PeerOutlierParams,
    Rule,
    RuleError,
    RuleSet,
    covered_product_ids,
    parse_rules_text,
)
from analysis.variants import series_by_variant
from core.clock import CHINA_OFFSET, china_day_end, china_day_start
from core.config import Settings
from core.db import advisory_xact_lock, sqlite_file_lock
from core.models import Alert, Category, Complaint, Merchant, PriceCheck, PriceObservation, Product, utcnow
from core.price_reads import read_observations
from jobs.price_checks import confirmed_prices

log = logging.getLogger(__name__)

#: The PostgreSQL advisory lock key a detection run holds ("FairDet" + version 1).
DETECTION_LOCK_KEY = int.from_bytes(b"FairDet\x01", "big")
#: Days of history a run reads before ``as_of``: the longest baseline (56 + 7 days for complaint spikes,
#: 28 prices for market surges) with room for gaps and for episodes still going on.
LOOKBACK_DAYS = 120
#: Complaint natures that count as price complaints.
PRICE_NATURES = ("价格/哄抬价格", "价格", "哄抬价格")
#: Days before an episode in which a complaint still links to it.
COMPLAINT_LEAD_DAYS = 7
MAX_GAP_DAYS = 1
PEER_SAMPLE = 5
#: Days of prices shown before an episode in its chart excerpt.
SERIES_PAD_DAYS = 14


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


# --- reading ---------------------------------------------------------------------------------------


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


def _merchants(session: Session, ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Name and industry of the given merchants, queried in chunks the drivers accept."""
    wanted = sorted(ids)
    found: dict[int, tuple[str, str | None]] = {}
    for first in range(0, len(wanted), 5000):
        chunk = wanted[first : first + 5000]
        statement = select(Merchant.id, Merchant.name, Merchant.industry).where(Merchant.id.in_(chunk))
        found.update({row.id: (row.name, row.industry) for row in session.execute(statement)})
    return found


def _latest_observation_date(session: Session) -> dt.date | None:
    return session.scalar(select(func.max(PriceObservation.observed_date)))


# --- evidence --------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def _day(value: pd.Timestamp) -> dt.date:
    return pd.Timestamp(value).date()


def _optional_id(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def episode_key(
    rule_id: str, merchant_id: int | None, product_id: int | None, region: str, start: dt.date
) -> str:
    """Stable id of an episode: the same episode found again gets the same key."""
    text = f"{rule_id}|{merchant_id}|{product_id}|{region}|{start.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Context:
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


def build_evidence(outcome: RuleOutcome, episode: Any, context: _Context) -> dict[str, Any]:
    """The evidence an alert carries: rule, reference, current value, change, peers, complaints, series."""
    rule = outcome.rule
    merchant_id = _optional_id(episode.merchant_id)
    product_id = _optional_id(episode.product_id)
    region = str(episode.region)
    start, end = _day(episode.start_date), _day(episode.end_date)
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


def _with_confirmed_prices(episode: Any, evidence: dict[str, Any], confirmed: dict[int, PriceCheck]) -> Any:
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


# --- upsert ----------------------------------------------------------------------------------------


def _existing_alerts(
    session: Session, rule_ids: list[str], since: dt.date
) -> dict[tuple[Any, ...], list[Alert]]:
    alerts = session.scalars(
        select(Alert).where(
            Alert.rule_id.in_(rule_ids), Alert.end_date >= since - dt.timedelta(days=MAX_GAP_DAYS + 1)
        )
    ).all()
    existing: dict[tuple[Any, ...], list[Alert]] = {}
    for alert in alerts:
        existing.setdefault((alert.rule_id, alert.merchant_id, alert.product_id, alert.region), []).append(
            alert
        )
    return existing


def _same_episode(alert: Alert, start: dt.date, end: dt.date) -> bool:
    gap = dt.timedelta(days=MAX_GAP_DAYS + 1)
    return alert.start_date - gap <= end and alert.end_date + gap >= start


def _escalate(current: str, found: str) -> str:
    return max(current, found, key=SEVERITIES.index)


def _upsert(
    session: Session,
    outcome: RuleOutcome,
    episode: Any,
    evidence: dict[str, Any],
    existing: dict[tuple[Any, ...], list[Alert]],
    context: _Context,
) -> tuple[Alert, Literal["raised", "updated"]] | None:
    rule = outcome.rule
    merchant_id = _optional_id(episode.merchant_id)
    product_id = _optional_id(episode.product_id)
    region = str(episode.region)
    start, end = _day(episode.start_date), _day(episode.end_date)
    candidates = existing.setdefault((rule.id, merchant_id, product_id, region), [])
    alert = next((alert for alert in candidates if _same_episode(alert, start, end)), None)
    if alert is None:
        alert = Alert(
            episode_key=episode_key(rule.id, merchant_id, product_id, region, start),
            rule_id=rule.id,
            kind=rule.kind,
            merchant_id=merchant_id,
            product_id=product_id,
            region=region,
            industry=context.merchants.get(merchant_id, ("", None))[1] if merchant_id is not None else None,
            start_date=start,
            end_date=end,
            severity=str(episode.severity),
            status="open",
            evidence=evidence,
        )
        session.add(alert)
        candidates.append(alert)
        return alert, "raised"
    if alert.status == "dismissed":
        return None
    severity = _escalate(alert.severity, str(episode.severity))
    new_start, new_end = min(alert.start_date, start), max(alert.end_date, end)
    if (alert.start_date, alert.end_date, alert.severity, alert.evidence) == (
        new_start,
        new_end,
        severity,
        evidence,
    ):
        return None
    alert.start_date, alert.end_date, alert.severity, alert.evidence = new_start, new_end, severity, evidence
    alert.updated_at = utcnow()
    return alert, "updated"


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


@contextmanager
def detection_lock(session: Session, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the database's detection lock; wait while another run holds it.

    PostgreSQL: a transaction-level advisory lock on the session's connection, released when the run
    commits or rolls back. SQLite: an exclusive ``flock`` on ``<database>.detect-lock``, taken before
    the session reads anything. ``on_wait`` is called once if the lock is busy, before waiting.
    """
    bind = session.get_bind()
    waiting = partial(_waiting, on_wait)
    if bind.dialect.name == "postgresql":
        advisory_xact_lock(session.connection(), DETECTION_LOCK_KEY, on_wait=waiting)
        yield
    elif bind.dialect.name == "sqlite":
        with sqlite_file_lock(bind.engine.url, "detect", on_wait=waiting):
            yield
    else:
        yield


def _waiting(on_wait: Callable[[], None] | None) -> None:
    log.info("another detection run is in progress; waiting for it to finish")
    if on_wait is not None:
        on_wait()


#: Reports how far a run is: steps done, steps in all, what it is doing.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DetectionRun:
    """What a run judged (``since``..``as_of``) and the alerts it raised or updated."""

    since: dt.date
    as_of: dt.date
    results: list[DetectionResult]


def run_detection(
    session: Session,
    settings: Settings,
    *,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    ruleset: RuleSet | None = None,
    on_wait: Callable[[], None] | None = None,
    on_progress: Progress | None = None,
) -> list[DetectionResult]:
    """Judge every day from ``since`` to ``as_of`` and upsert the alerts; return those raised or updated.

    ``as_of`` defaults to the newest observation date (today when there are none), so a run judges
    the data the platform has; ``since`` defaults to ``as_of`` (the daily run). See
    :func:`run_detection_span`.
    """
    return run_detection_span(
        session, settings, as_of=as_of, since=since, ruleset=ruleset, on_wait=on_wait, on_progress=on_progress
    ).results


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
        as_of = as_of or _latest_observation_date(session) or dt.date.today()
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
    products = {
        row.id: (row.name, row.standard_unit)
        for row in session.execute(select(Product.id, Product.name, Product.standard_unit))
    }
    context = _Context(ruleset, retail, complaints, products)
    context.index_series(outcome.episodes for outcome in outcomes)
    involved = {int(value) for outcome in outcomes for value in outcome.episodes["merchant_id"].dropna()}
    peers = {int(value) for rows in context.peer_rows.values() for value in rows["merchant_id"].dropna()}
    context.merchants = _merchants(session, involved | peers)
    merchants = context.merchants
    existing = _existing_alerts(session, [rule.id for rule in ruleset.rules], start)
    results: list[DetectionResult] = []
    changed: list[tuple[Alert, Literal["raised", "updated"]]] = []
    confirmed = confirmed_prices(session)
    for outcome in outcomes:
        for episode in outcome.episodes.itertuples(index=False):
            evidence = build_evidence(outcome, episode, context)
            episode = _with_confirmed_prices(episode, evidence, confirmed)
            upserted = _upsert(session, outcome, episode, evidence, existing, context)
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
