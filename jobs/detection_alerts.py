"""Writing a detection run's alerts: one per episode, found again across runs, under one lock.

An alert is one (rule, merchant, product, region, variant, episode); the variant (origin/spec/package,
followed by the detectors as its own series) is kept in the evidence, so the region stays the plain region.
An episode found again updates its alert (end date, evidence, severity only escalates); a dismissed alert
stays dismissed. One run at a time per
database (:func:`detection_lock`): two runs started together would both find an episode new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.evidence import episode_identity
from analysis.gouging import RuleOutcome
from analysis.rules import SEVERITIES
from analysis.variants import fold_variant_region, split_variant_region
from core.db import advisory_xact_lock, sqlite_file_lock
from core.models import Alert, utcnow

log = logging.getLogger(__name__)

#: The PostgreSQL advisory lock key a detection run holds ("FairDet" + version 1).
DETECTION_LOCK_KEY = int.from_bytes(b"FairDet\x01", "big")
#: Days between two flagged stretches that still make one episode.
MAX_GAP_DAYS = 1


def episode_key(
    rule_id: str, merchant_id: int | None, product_id: int | None, region: str, start: dt.date
) -> str:
    """Stable id of an episode: the same episode found again gets the same key."""
    text = f"{rule_id}|{merchant_id}|{product_id}|{region}|{start.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()


def existing_alerts(
    session: Session, rule_ids: list[str], since: dt.date
) -> dict[tuple[Any, ...], list[Alert]]:
    alerts = session.scalars(
        select(Alert).where(
            Alert.rule_id.in_(rule_ids), Alert.end_date >= since - dt.timedelta(days=MAX_GAP_DAYS + 1)
        )
    ).all()
    existing: dict[tuple[Any, ...], list[Alert]] = {}
    for alert in alerts:
        series = fold_variant_region(alert.region, str((alert.evidence or {}).get("variant") or ""))
        existing.setdefault((alert.rule_id, alert.merchant_id, alert.product_id, series), []).append(alert)
    return existing


def _same_episode(alert: Alert, start: dt.date, end: dt.date) -> bool:
    gap = dt.timedelta(days=MAX_GAP_DAYS + 1)
    return alert.start_date - gap <= end and alert.end_date + gap >= start


def _escalate(current: str, found: str) -> str:
    return max(current, found, key=SEVERITIES.index)


def upsert_alert(
    session: Session,
    outcome: RuleOutcome,
    episode: Any,
    evidence: dict[str, Any],
    existing: dict[tuple[Any, ...], list[Alert]],
    merchants: Mapping[int, tuple[str, str | None]],
) -> tuple[Alert, Literal["raised", "updated"]] | None:
    rule = outcome.rule
    merchant_id, product_id, series, start, end = episode_identity(episode)
    region, variant = split_variant_region(series)
    if variant:
        evidence = {**evidence, "variant": variant}
    candidates = existing.setdefault((rule.id, merchant_id, product_id, series), [])
    alert = next((alert for alert in candidates if _same_episode(alert, start, end)), None)
    if alert is None:
        alert = Alert(
            episode_key=episode_key(rule.id, merchant_id, product_id, series, start),
            rule_id=rule.id,
            kind=rule.kind,
            merchant_id=merchant_id,
            product_id=product_id,
            region=region,
            industry=merchants.get(merchant_id, ("", None))[1] if merchant_id is not None else None,
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
