"""The scheduler: crawl, detect and deliver on a timetable from configuration, one process at a time.

APScheduler 3 keeps the jobs in the ``apscheduler_jobs`` table of the application database, so a
restart resumes the timetable: a run missed while no scheduler was up starts when one comes back
(within ``schedule_misfire_grace_seconds``; several missed runs coalesce into one), and no job runs
twice at once. Only the process holding the leader lock (:mod:`jobs.leader`) starts the scheduler;
when it takes the lead it marks runs an earlier leader left ``running`` as failed and runs those jobs
again at once. Detection upserts alerts by episode, so a repeated run never doubles an alert.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from alerts.delivery import deliver_due
from alerts.enqueue import enqueue_pending
from alerts.price_follows import run_price_follows
from alerts.watches import enqueue_watch_matches
from core.config import Settings
from core.db import session_factory, session_scope
from core.models import CrawlRun, JobRun
from crawlers.runner import run_crawl
from jobs import JOB_NAMES
from jobs.detection import run_detection_span
from jobs.index_series import publish_all
from jobs.leader import LeaderLock
from jobs.price_checks import request_price_checks, run_due_checks
from jobs.runs import fail_interrupted_runs, finish_run, prune_runs, start_run
from search.service import get_search_backend

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"
#: The leader deletes job runs older than ``job_runs_keep_days`` this often (deliver alone adds ~2,900 a day).
PRUNE_EVERY_SECONDS = 24 * 3600


class ScheduleError(ValueError):
    """A timetable setting that cannot be used; the message names the setting."""


# --- the jobs --------------------------------------------------------------------------------------


def crawl_task(settings: Settings, engine: Engine) -> dict[str, Any]:
    """Crawl the configured sources (each in its own process); fails when any source failed."""
    run_ids = run_crawl(settings.crawl_sources or None, settings)
    with session_factory(engine)() as session:
        runs = session.execute(select(CrawlRun.source, CrawlRun.status).where(CrawlRun.id.in_(run_ids))).all()
    failed = sorted(str(source) for source, state in runs if state == "failed")
    if failed:
        raise RuntimeError(
            f"{len(failed)}/{len(runs)} 个数据源抓取失败：{', '.join(failed)}（详见 crawl_runs）"
        )
    with session_factory(engine)() as session:
        published = publish_all(session, settings.data_dir)
    return {
        "crawl_runs": run_ids,
        "statuses": {str(source): state for source, state in runs},
        "index_days": published.days,
    }


def index_task(settings: Settings, engine: Engine) -> dict[str, Any]:
    """Bring every published price index series up to date with the prices (imports, late prices,
    crawls made outside the scheduler), so that index reads only slice stored values."""
    with session_factory(engine)() as session:
        published = publish_all(session, settings.data_dir)
    return {"series": published.series, "refreshed": published.refreshed, "days": published.days}


def detect_task(settings: Settings, engine: Engine) -> dict[str, Any]:
    """Judge every day since the last successful run (the days missed while down, too) up to the newest
    price, as their daily runs would have."""
    with session_scope(engine) as session:
        run = run_detection_span(session, settings, since=day_after_last_detection(session))
    raised = sum(result.action == "raised" for result in run.results)
    return {
        "raised": raised,
        "updated": len(run.results) - raised,
        "since": run.since.isoformat(),
        "as_of": run.as_of.isoformat(),
    }


def day_after_last_detection(session: Session) -> dt.date | None:
    """The day after the last day a successful detect run judged (None before any such run)."""
    runs = session.scalars(
        select(JobRun)
        .where(JobRun.job == "detect", JobRun.status == "ok")
        .order_by(JobRun.started_at.desc())
        .limit(20)
    )
    for run in runs:
        judged = run.details.get("as_of")
        if isinstance(judged, str):
            try:
                return dt.date.fromisoformat(judged) + dt.timedelta(days=1)
            except ValueError:
                continue
    return None


def deliver_task(settings: Settings, engine: Engine) -> dict[str, Any]:
    """Fan new alerts out to subscriptions and new matches out to watches, then send what is due."""
    sessions = session_factory(engine)
    with sessions() as session:
        enqueued = enqueue_pending(session)
        watched = enqueue_watch_matches(session, lambda: get_search_backend(settings, engine))
    stats = deliver_due(sessions, settings)
    return {
        "enqueued": enqueued,
        "watch_matches": watched,
        "claimed": stats.claimed,
        "sent": stats.sent,
        "retrying": stats.retrying,
        "dead": stats.dead,
    }


def price_checks_task(settings: Settings, engine: Engine) -> dict[str, Any]:
    """Check the shop price of what new complaints name (one polite crawl per seller and good)."""
    with session_factory(engine)() as session:
        requested = request_price_checks(session)
        stats = run_due_checks(
            session, settings, lambda sources, s, arguments: run_crawl(sources, s, arguments=arguments)
        )
    return {"requested": requested, **stats}


def price_follows_task(settings: Settings, engine: Engine) -> dict[str, Any]:
    """Mail the public's confirmations and each move of a followed city median beyond its threshold."""
    with session_factory(engine)() as session:
        return run_price_follows(session, settings)


TASKS: dict[str, Callable[[Settings, Engine], dict[str, Any]]] = {
    "crawl": crawl_task,
    "detect": detect_task,
    "deliver": deliver_task,
    "price_checks": price_checks_task,
    "price_follows": price_follows_task,
    "index": index_task,
}


def execute_job(name: str, settings: Settings, engine: Engine, *, owner: str) -> str:
    """Run one job and record the run; return its status. A failure is recorded, never raised."""
    sessions = session_factory(engine)
    run_id = start_run(sessions, name, owner=owner)
    try:
        details = TASKS[name](settings, engine)
    except Exception as exc:
        log.exception("job %s failed", name)
        finish_run(sessions, run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        return "failed"
    finish_run(sessions, run_id, status="ok", details=details)
    return "ok"


#: The settings and engine of each scheduler leading in this process, by owner.
_LEADERS: dict[str, tuple[Settings, Engine]] = {}


def run_scheduled_job(name: str, owner: str) -> None:
    """The callable APScheduler stores (by reference) for every job; runs with its leader's settings."""
    settings, engine = _LEADERS[owner]
    execute_job(name, settings, engine, owner=owner)


# --- the timetable ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One job's place in the timetable; a changed ``schedule`` text means a changed timetable."""

    name: str
    trigger: BaseTrigger
    schedule: str


def timezone_of(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.schedule_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"FAIRMARKET_SCHEDULE_TIMEZONE: unknown time zone {settings.schedule_timezone!r}"
        ) from exc


def timetable(settings: Settings) -> dict[str, Entry]:
    """The jobs that are on, from settings: cron strings for crawl, detect and index, seconds for
    deliver, price checks and follows.

    An empty cron string or 0 seconds turns a job off.
    """
    zone = timezone_of(settings)
    entries: dict[str, Entry] = {}
    for name, cron in (
        ("crawl", settings.schedule_crawl),
        ("detect", settings.schedule_detect),
        ("index", settings.schedule_index),
    ):
        if not cron.strip():
            continue
        try:
            trigger = CronTrigger.from_crontab(cron, timezone=zone)
        except ValueError as exc:
            raise ScheduleError(f"FAIRMARKET_SCHEDULE_{name.upper()}: invalid cron {cron!r}: {exc}") from exc
        entries[name] = Entry(name, trigger, f"cron {cron.strip()} ({zone.key})")
    for name, seconds in (
        ("deliver", settings.schedule_deliver_seconds),
        ("price_checks", settings.schedule_price_check_seconds),
        ("price_follows", settings.schedule_price_follow_seconds),
    ):
        if seconds:
            entries[name] = Entry(name, IntervalTrigger(seconds=seconds, timezone=zone), f"every {seconds}s")
    return entries


def build_scheduler(settings: Settings, engine: Engine) -> BackgroundScheduler:
    """A scheduler over the database job store: coalescing, misfire grace, one instance per job."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=len(JOB_NAMES))},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.schedule_misfire_grace_seconds,
        },
        timezone=timezone_of(settings),
    )


def install_jobs(
    scheduler: BackgroundScheduler, settings: Settings, *, owner: str, run_now: Iterable[str] = ()
) -> None:
    """Bring the stored jobs in line with the timetable, then start ``run_now`` jobs at once.

    A job whose schedule did not change keeps its stored next run time, so a run missed while no
    scheduler was up is still due (call this on a paused scheduler, then resume it).
    """
    entries = timetable(settings)
    for job in scheduler.get_jobs():
        if job.id not in entries:
            scheduler.remove_job(job.id)
    for entry in entries.values():
        label = f"{entry.name}: {entry.schedule}"
        stored = scheduler.get_job(entry.name)
        if stored is not None and stored.name == label:
            scheduler.modify_job(entry.name, args=(entry.name, owner))
            continue
        scheduler.add_job(
            run_scheduled_job,
            entry.trigger,
            args=(entry.name, owner),
            id=entry.name,
            name=label,
            replace_existing=True,
        )
    now = dt.datetime.now(timezone_of(settings))
    for name in run_now:
        if name in entries:
            scheduler.modify_job(name, next_run_time=now)
        else:
            log.warning("job %s is off in the timetable; not running it now", name)


def stop_scheduler(scheduler: BackgroundScheduler, *, wait: bool = True) -> None:
    """Stop without consuming a due run.

    APScheduler 3 makes one more pass over the job store after ``shutdown`` begins; a job due then
    gets its next run time advanced while the stopped executor refuses it, and the run is lost.
    Detaching the job store first leaves the stored times for the next leader.
    """
    scheduler.pause()
    scheduler.remove_jobstore("default")
    scheduler.shutdown(wait=wait)


def read_next_run_times(session: Session) -> dict[str, dt.datetime]:
    """When the job store says each job runs next (naive UTC); empty before a scheduler ever ran."""
    if not inspect(session.get_bind()).has_table(JOBSTORE_TABLE):
        return {}
    rows = session.execute(text(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE}")).all()
    return {
        row.id: dt.datetime.fromtimestamp(row.next_run_time, dt.UTC).replace(tzinfo=None)
        for row in rows
        if row.next_run_time is not None
    }


# --- the process -----------------------------------------------------------------------------------


def new_owner() -> str:
    """A name for this scheduler process, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SchedulerService:
    """Wait for the leader lock, then run the timetable until stopped or the lock is lost."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        lock: LeaderLock,
        *,
        owner: str | None = None,
        run_now: Iterable[str] = (),
    ) -> None:
        timetable(settings)
        self.settings, self.engine, self.lock = settings, engine, lock
        self.owner = owner or new_owner()
        self.run_now = tuple(run_now)

    def run(self, stop: threading.Event) -> None:
        poll = self.settings.scheduler_poll_seconds
        log.info("scheduler %s waiting for the leader lock", self.owner)
        while not stop.is_set():
            try:
                if self.lock.try_acquire():
                    try:
                        self._lead(stop)
                    finally:
                        self.lock.release()
                    continue
            except DBAPIError as exc:
                log.error("scheduler %s cannot reach the database, retrying: %s", self.owner, exc)
            stop.wait(poll)

    def _lead(self, stop: threading.Event) -> None:
        log.info("scheduler %s is the leader", self.owner)
        interrupted = fail_interrupted_runs(session_factory(self.engine), owner=self.owner)
        if interrupted:
            log.warning("runs interrupted by an earlier scheduler, running again: %s", ", ".join(interrupted))
        scheduler = build_scheduler(self.settings, self.engine)
        scheduler.start(paused=True)
        _LEADERS[self.owner] = (self.settings, self.engine)
        try:
            install_jobs(scheduler, self.settings, owner=self.owner, run_now={*interrupted, *self.run_now})
            self.run_now = ()
            scheduler.resume()
            next_prune = time.monotonic()
            while not stop.wait(self.settings.scheduler_poll_seconds):
                if time.monotonic() >= next_prune:
                    prune_runs(session_factory(self.engine), keep_days=self.settings.job_runs_keep_days)
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                if not self.lock.still_held():
                    log.error("scheduler %s lost the leader lock; standing by", self.owner)
                    break
        finally:
            stop_scheduler(scheduler)
            del _LEADERS[self.owner]
