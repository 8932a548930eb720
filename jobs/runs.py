"""Job runs: every scheduled run leaves a row (start, end, status, error) in ``job_runs``.

A run is written in its own short transaction when it starts and again when it ends, so a run that a
crash interrupts is visible as ``running``; the next scheduler to take the lead marks it ``failed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.models import JobRun, utcnow

RunStatus = Literal["ok", "failed"]
INTERRUPTED_ERROR = "interrupted: the scheduler process ended before the run finished"


def start_run(sessions: sessionmaker[Session], job: str, *, owner: str) -> int:
    """Record that ``job`` started in the scheduler ``owner``; return the run id."""
    with sessions() as session:
        run = JobRun(job=job, status="running", details={"owner": owner})
        session.add(run)
        session.commit()
        return run.id


def finish_run(
    sessions: sessionmaker[Session],
    run_id: int,
    *,
    status: RunStatus,
    error: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record how a run ended; ``details`` are merged into what the run already holds."""
    with sessions() as session:
        run = session.get(JobRun, run_id)
        if run is None:
            return
        run.status, run.error, run.finished_at = status, error, utcnow()
        run.details = {**run.details, **(details or {})}
        session.commit()


def fail_interrupted_runs(sessions: sessionmaker[Session], *, owner: str) -> list[str]:
    """Mark runs left ``running`` by other schedulers as failed; return their job names.

    Only the scheduler holding the leader lock may call this: no other scheduler is running jobs then,
    so a run still ``running`` under another owner was cut short by that owner's end.
    """
    with sessions() as session:
        runs = session.scalars(select(JobRun).where(JobRun.status == "running")).all()
        interrupted = [run for run in runs if run.details.get("owner") != owner]
        for run in interrupted:
            session.execute(
                update(JobRun)
                .where(JobRun.id == run.id, JobRun.status == "running")
                .values(status="failed", error=INTERRUPTED_ERROR, finished_at=utcnow())
            )
        session.commit()
        return sorted({run.job for run in interrupted})


def recent_runs(session: Session, job: str, *, limit: int = 10) -> Sequence[JobRun]:
    """The newest runs of ``job``, newest first."""
    return session.scalars(
        select(JobRun)
        .where(JobRun.job == job)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    ).all()


def prune_runs(sessions: sessionmaker[Session], *, keep_days: int) -> int:
    """Delete finished runs that started more than ``keep_days`` ago; return how many."""
    cutoff = utcnow() - dt.timedelta(days=keep_days)
    with sessions() as session:
        result = session.execute(delete(JobRun).where(JobRun.started_at < cutoff, JobRun.status != "running"))
        session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
