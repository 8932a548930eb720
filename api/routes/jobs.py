"""Scheduled jobs for staff: the timetable, when each job runs next, and how its recent runs went."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, status

from api.schemas.jobs import JobPublic, JobRunPublic, JobsPublic
from jobs.leader import leader_active
from jobs.runs import recent_runs
from jobs.scheduler import JOB_NAMES, ScheduleError, read_next_run_times, timetable
from web.deps import SessionDep, SettingsDep, StaffDep

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=JobsPublic)
def list_jobs(
    session: SessionDep,
    settings: SettingsDep,
    _caller: StaffDep,
    limit: int = Query(10, ge=1, le=100, description="recent runs per job"),
) -> JobsPublic:
    """Times are UTC. ``next_run_at`` is what the scheduler stored; empty before one first led.

    ``scheduler_active`` says whether a ``fairmarket scheduler`` process holds the lead right now: without
    one, nothing runs however due it is.
    """
    try:
        entries = timetable(settings)
    except ScheduleError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"调度配置有误：{exc}") from exc
    next_runs = read_next_run_times(session)
    jobs = [
        JobPublic(
            name=name,
            enabled=name in entries,
            schedule=entries[name].schedule if name in entries else None,
            next_run_at=next_runs.get(name) if name in entries else None,
            recent_runs=[JobRunPublic.model_validate(run) for run in recent_runs(session, name, limit=limit)],
        )
        for name in JOB_NAMES
    ]
    active = leader_active(session.get_bind().engine)
    return JobsPublic(scheduler_active=active, data=jobs, count=len(jobs))
