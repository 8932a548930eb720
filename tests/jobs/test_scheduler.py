"""The scheduler against real databases and real processes: runs recorded, one leader, crash recovery."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, make_url, select, text
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import make_engine, session_factory
from core.models import Alert, Category, JobRun, Merchant, PriceObservation, Product, utcnow
from jobs.leader import leader_lock_for
from jobs.runs import INTERRUPTED_ERROR, fail_interrupted_runs, prune_runs, start_run
from jobs.scheduler import (
    ScheduleError,
    SchedulerService,
    build_scheduler,
    execute_job,
    install_jobs,
    stop_scheduler,
    timetable,
)
from tests.utils.waiting import wait_until

FAIRMARKET = str(Path(sys.executable).with_name("fairmarket"))
WAIT_SECONDS = 60


def _waiting_for_a_lock_on(engine: Engine, table: str) -> bool:
    """Whether some PostgreSQL session waits for a lock on ``table`` (its request not yet granted)."""
    with engine.connect() as connection:
        waiting = connection.scalar(
            text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = CAST(:table AS regclass)"),
            {"table": table},
        )
    return bool(waiting)


def _runs(engine: Engine, job: str | None = None) -> list[JobRun]:
    with session_factory(engine)() as session:
        statement = select(JobRun).order_by(JobRun.id)
        if job is not None:
            statement = statement.where(JobRun.job == job)
        return list(session.scalars(statement))


def _alert_count(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(Alert)) or 0


def _seed_gouging(session: Session) -> None:
    """Eight 南岗区 shops selling 大白菜 for 40 days on a noisy market; shop 1 adds +60% at the end."""
    category = Category(code="vegetables", name="蔬菜")
    product = Product(code="chinese_cabbage", name="大白菜", category=category, standard_unit="500g")
    shops = [
        Merchant(name=f"南岗第{number}超市", industry="超市", district="南岗区") for number in range(1, 9)
    ]
    session.add_all([category, product, *shops])
    session.flush()
    rng = np.random.default_rng(11)
    market = 1.5 * np.exp(np.cumsum(rng.normal(0, 0.02, 40)))
    for day in range(40):
        observed = dt.datetime(2024, 3, 1, 8) + dt.timedelta(days=day)
        for number, shop in enumerate(shops):
            price = market[day] * (1 + 0.02 * number) * float(np.exp(rng.normal(0, 0.01)))
            if number == 0 and day >= 33:
                price *= 1.6
            session.add(
                PriceObservation(
                    natural_key=f"{shop.id}-{day}",
                    source="test",
                    merchant_id=shop.id,
                    product_id=product.id,
                    region="南岗区",
                    observed_at=observed,
                    observed_date=observed.date(),
                    price=round(price, 2),
                    raw_unit="斤",
                    unit_price=price,
                    standard_unit="500g",
                    price_type="retail",
                    availability="in_stock",
                )
            )
    session.commit()


# --- in one process --------------------------------------------------------------------------------


def test_execute_job_records_a_finished_run(engine: Engine, session: Session, settings: Settings) -> None:
    _seed_gouging(session)
    assert execute_job("detect", settings, engine, owner="host:1:test") == "ok"
    (run,) = _runs(engine)
    assert (run.job, run.status, run.error) == ("detect", "ok", None)
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.details["owner"] == "host:1:test"
    assert run.details["raised"] == _alert_count(engine) > 0


def test_execute_job_records_a_failure_with_its_reason(engine: Engine, settings: Settings) -> None:
    (settings.data_dir / "gouging_rules.yaml").write_text("- not a rule file\n", encoding="utf-8")
    assert execute_job("detect", settings, engine, owner="host:1:test") == "failed"
    (run,) = _runs(engine)
    assert run.status == "failed"
    assert run.finished_at is not None
    assert "RuleError" in (run.error or "") and "rule file" in (run.error or "")


def test_crawl_and_deliver_jobs_record_their_outcome(engine: Engine, settings: Settings) -> None:
    unknown = settings.model_copy(update={"crawl_sources": ["no_such_source"]})
    assert execute_job("crawl", unknown, engine, owner="host:1:test") == "failed"
    assert execute_job("deliver", settings, engine, owner="host:1:test") == "ok"
    crawl, deliver = _runs(engine)
    assert "未知的数据源：no_such_source" in (crawl.error or "")
    assert deliver.details == {
        "owner": "host:1:test",
        "enqueued": 0,
        "watch_matches": 0,
        "claimed": 0,
        "sent": 0,
        "retrying": 0,
        "dead": 0,
    }


def test_fail_interrupted_runs_only_touches_other_owners(engine: Engine) -> None:
    sessions = session_factory(engine)
    start_run(sessions, "detect", owner="dead-host:7:old")
    start_run(sessions, "crawl", owner="dead-host:7:old")
    start_run(sessions, "deliver", owner="me")
    assert fail_interrupted_runs(sessions, owner="me") == ["crawl", "detect"]
    statuses = {(run.job, run.status, run.error) for run in _runs(engine)}
    assert statuses == {
        ("detect", "failed", INTERRUPTED_ERROR),
        ("crawl", "failed", INTERRUPTED_ERROR),
        ("deliver", "running", None),
    }
    assert fail_interrupted_runs(sessions, owner="me") == []


def test_prune_runs_keeps_recent_and_running(engine: Engine, session: Session) -> None:
    old = utcnow() - dt.timedelta(days=100)
    session.add_all(
        [
            JobRun(job="deliver", started_at=old, finished_at=old, status="ok"),
            JobRun(job="detect", started_at=old, status="running"),
            JobRun(job="deliver", status="ok"),
        ]
    )
    session.commit()
    assert prune_runs(session_factory(engine), keep_days=90) == 1
    assert sorted((run.job, run.status) for run in _runs(engine)) == [
        ("deliver", "ok"),
        ("detect", "running"),
    ]


def test_timetable_from_settings(settings: Settings) -> None:
    off = {
        "schedule_crawl": "",
        "schedule_deliver_seconds": 0,
        "schedule_price_check_seconds": 0,
        "schedule_price_follow_seconds": 0,
        "schedule_index": "",
    }
    entries = timetable(settings.model_copy(update=off))
    assert list(entries) == ["detect"]
    assert entries["detect"].schedule == "cron 30 6 * * * (Asia/Shanghai)"
    with pytest.raises(ScheduleError, match="FAIRMARKET_SCHEDULE_DETECT"):
        timetable(settings.model_copy(update={"schedule_detect": "every morning"}))
    with pytest.raises(ScheduleError, match="FAIRMARKET_SCHEDULE_TIMEZONE"):
        timetable(settings.model_copy(update={"schedule_timezone": "Mars/Olympus"}))


def _stored_next_runs(settings: Settings, engine: Engine) -> dict[str, dt.datetime]:
    scheduler = build_scheduler(settings, engine)
    scheduler.start(paused=True)
    try:
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        stop_scheduler(scheduler)


def test_install_jobs_keeps_a_missed_run_due(engine: Engine, settings: Settings) -> None:
    scheduler = build_scheduler(settings, engine)
    scheduler.start(paused=True)
    install_jobs(scheduler, settings, owner="first")
    missed = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    scheduler.modify_job("detect", next_run_time=missed)  # the scheduler was down at 06:30
    stop_scheduler(scheduler)

    scheduler = build_scheduler(settings, engine)
    scheduler.start(paused=True)
    install_jobs(scheduler, settings, owner="second")
    detect = scheduler.get_job("detect")
    assert detect.next_run_time == missed
    assert detect.args == ("detect", "second")
    assert detect.coalesce is True and detect.max_instances == 1
    assert detect.misfire_grace_time == settings.schedule_misfire_grace_seconds
    stop_scheduler(scheduler)

    changed = settings.model_copy(update={"schedule_detect": "15 7 * * *", "schedule_crawl": ""})
    scheduler = build_scheduler(changed, engine)
    scheduler.start(paused=True)
    install_jobs(scheduler, changed, owner="third")
    stop_scheduler(scheduler)
    next_runs = _stored_next_runs(changed, engine)
    assert set(next_runs) == {"detect", "deliver", "price_checks", "price_follows", "index"}
    assert next_runs["detect"] > dt.datetime.now(dt.UTC)
    assert (next_runs["detect"].hour, next_runs["detect"].minute) == (7, 15)


def test_service_runs_a_missed_job_after_a_restart(
    engine: Engine, session: Session, settings: Settings
) -> None:
    _seed_gouging(session)
    quick = settings.model_copy(update={"scheduler_poll_seconds": 0.2, "schedule_deliver_seconds": 0})
    scheduler = build_scheduler(quick, engine)
    scheduler.start(paused=True)
    install_jobs(scheduler, quick, owner="before-restart")
    scheduler.modify_job("detect", next_run_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
    stop_scheduler(scheduler)

    stop = threading.Event()
    service = SchedulerService(quick, engine, leader_lock_for(engine))
    worker = threading.Thread(target=service.run, args=(stop,))
    worker.start()
    try:
        wait_until(
            lambda: any(run.status == "ok" for run in _runs(engine, "detect")), "the missed detect run"
        )
    finally:
        stop.set()
        worker.join(timeout=WAIT_SECONDS)
    assert not worker.is_alive()
    assert [run.details["owner"] for run in _runs(engine, "detect")] == [service.owner]
    assert _runs(engine, "crawl") == []  # its 06:00 run is still ahead


def test_service_waits_out_an_unreachable_database(
    db_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a SQLite file cannot be unreachable")
    missing = make_engine(
        make_url(db_url).set(database="fairmarket_no_such_database").render_as_string(False)
    )
    service = SchedulerService(
        settings.model_copy(update={"scheduler_poll_seconds": 0.1}), missing, leader_lock_for(missing)
    )
    stop = threading.Event()
    worker = threading.Thread(target=service.run, args=(stop,))
    with caplog.at_level(logging.ERROR, logger="jobs.scheduler"):
        worker.start()
        wait_until(
            lambda: sum("cannot reach the database" in r.getMessage() for r in caplog.records) >= 3,
            "three failed attempts to reach the database",
        )
    assert worker.is_alive()  # still retrying, not crashed
    stop.set()
    worker.join(timeout=WAIT_SECONDS)
    assert not worker.is_alive()
    missing.dispose()


def test_leader_lock_is_exclusive(engine: Engine) -> None:
    first, second = leader_lock_for(engine), leader_lock_for(engine)
    assert first.try_acquire()
    try:
        assert first.still_held()
        assert not second.try_acquire()
    finally:
        first.release()
    assert not first.still_held()
    assert second.try_acquire()
    second.release()


# --- in separate processes -------------------------------------------------------------------------


@pytest.fixture
def scheduler_env(settings: Settings, db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FAIRMARKET_ENVIRONMENT": "test",
        "FAIRMARKET_DATABASE_URL": db_url,
        "FAIRMARKET_DATA_DIR": str(settings.data_dir),
        "FAIRMARKET_SCHEDULE_CRAWL": "",
        "FAIRMARKET_SCHEDULE_DETECT": "30 6 * * *",
        "FAIRMARKET_SCHEDULE_DELIVER_SECONDS": "1",
        "FAIRMARKET_SCHEDULER_POLL_SECONDS": "0.3",
    }


@pytest.fixture
def start_scheduler(
    scheduler_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **env: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"scheduler-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [FAIRMARKET, "scheduler", *args],
            env={**scheduler_env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def _owner_pids(engine: Engine, job: str) -> list[int]:
    return [int(run.details["owner"].split(":")[-2]) for run in _runs(engine, job)]


def test_standby_scheduler_takes_over_when_the_leader_dies(
    engine: Engine, start_scheduler: Callable[..., subprocess.Popen[bytes]]
) -> None:
    leader = start_scheduler()
    wait_until(lambda: leader.pid in _owner_pids(engine, "deliver"), "the first scheduler to lead")
    standby = start_scheduler()
    wait_until(lambda: _owner_pids(engine, "deliver").count(leader.pid) >= 4, "the leader to keep running")
    assert standby.poll() is None
    assert set(_owner_pids(engine, "deliver")) == {leader.pid}

    leader.send_signal(signal.SIGKILL)
    leader.wait()
    wait_until(lambda: standby.pid in _owner_pids(engine, "deliver"), "the standby to take over")
    owners = _owner_pids(engine, "deliver")
    first_standby_run = owners.index(standby.pid)
    assert set(owners[:first_standby_run]) == {leader.pid}
    assert set(owners[first_standby_run:]) == {standby.pid}

    standby.send_signal(signal.SIGTERM)
    assert standby.wait(timeout=WAIT_SECONDS) == 0
    assert all(run.status != "running" for run in _runs(engine, "deliver"))


@pytest.mark.postgres
def test_detection_killed_mid_run_is_failed_rerun_and_never_doubled(
    db_url: str, engine: Engine, session: Session, start_scheduler: Callable[..., subprocess.Popen[bytes]]
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("holds a detection run mid-way with a PostgreSQL table lock")
    _seed_gouging(session)
    quiet = {"FAIRMARKET_SCHEDULE_DELIVER_SECONDS": "0"}
    blocker = make_engine(db_url)
    with blocker.connect() as conn:
        conn.execute(text("LOCK TABLE alerts IN EXCLUSIVE MODE"))  # reads go on, inserts wait
        first = start_scheduler("--run-now", "detect", **quiet)
        wait_until(
            lambda: [run.status for run in _runs(engine, "detect")] == ["running"], "detection to start"
        )
        wait_until(
            lambda: _waiting_for_a_lock_on(engine, "alerts"), "detection's alert inserts to wait on the lock"
        )
        assert [run.status for run in _runs(engine, "detect")] == ["running"]
        first.send_signal(signal.SIGKILL)
        first.wait()
        conn.rollback()
    blocker.dispose()
    assert _alert_count(engine) == 0

    second = start_scheduler(**quiet)
    wait_until(lambda: [run.status for run in _runs(engine, "detect")][-1:] == ["ok"], "the rerun")
    interrupted, rerun = _runs(engine, "detect")
    assert (interrupted.status, interrupted.error) == ("failed", INTERRUPTED_ERROR)
    assert rerun.details["owner"].split(":")[-2] == str(second.pid)
    alerts = _alert_count(engine)
    assert alerts > 0
    assert rerun.details["raised"] == alerts
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=WAIT_SECONDS) == 0

    third = start_scheduler("--run-now", "detect", **quiet)
    wait_until(
        lambda: len(_runs(engine, "detect")) == 3 and _runs(engine, "detect")[-1].status == "ok", "run 3"
    )
    assert _runs(engine, "detect")[-1].details["raised"] == 0
    assert _alert_count(engine) == alerts
    with session_factory(engine)() as check:
        keys = check.execute(select(Alert.rule_id, Alert.merchant_id, Alert.product_id, Alert.region)).all()
    assert len(keys) == len(set(keys))
    third.send_signal(signal.SIGTERM)
    assert third.wait(timeout=WAIT_SECONDS) == 0
