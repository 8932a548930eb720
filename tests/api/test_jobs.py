"""GET /api/jobs: the timetable, next runs from the job store and recent runs, for staff only."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.main import create_app
from core.config import Settings
from jobs.leader import leader_lock_for
from jobs.scheduler import build_scheduler, execute_job, install_jobs, stop_scheduler
from tests.utils.auth import login_headers, make_user


def test_jobs_need_staff(client: TestClient) -> None:
    response = client.get("/api/jobs")
    assert response.status_code == 401
    assert "需要登录" in response.json()["error"]["message"]


def test_jobs_before_a_scheduler_ever_ran(client: TestClient, session: Session) -> None:
    make_user(session, "xiehui", "consumer_staff")
    body = client.get("/api/jobs", headers=login_headers(client, "xiehui")).json()
    assert body["scheduler_active"] is False
    assert [job["name"] for job in body["data"]] == [
        "crawl",
        "detect",
        "deliver",
        "price_checks",
        "price_follows",
        "index",
    ]
    detect = body["data"][1]
    assert detect == {
        "name": "detect",
        "enabled": True,
        "schedule": "cron 30 6 * * * (Asia/Shanghai)",
        "next_run_at": None,
        "recent_runs": [],
    }


def test_jobs_show_next_run_and_recent_runs(
    client: TestClient, session: Session, engine: Engine, settings: Settings
) -> None:
    make_user(session, "xiehui", "consumer_staff")
    scheduler = build_scheduler(settings, engine)
    scheduler.start(paused=True)
    install_jobs(scheduler, settings, owner="host:1:a")
    stop_scheduler(scheduler)
    execute_job("detect", settings, engine, owner="host:1:a")
    (settings.data_dir / "gouging_rules.yaml").write_text("[]\n", encoding="utf-8")
    execute_job("detect", settings, engine, owner="host:1:a")

    body = client.get("/api/jobs", params={"limit": 5}, headers=login_headers(client, "xiehui")).json()
    detect = next(job for job in body["data"] if job["name"] == "detect")
    next_run = dt.datetime.fromisoformat(detect["next_run_at"])
    assert (next_run.hour, next_run.minute) == (22, 30)  # 06:30 in Harbin is 22:30 UTC
    assert [run["status"] for run in detect["recent_runs"]] == ["failed", "ok"]
    assert "rule file" in detect["recent_runs"][0]["error"]
    assert detect["recent_runs"][1]["details"]["raised"] == 0


def test_jobs_off_and_bad_timetable(session: Session, settings: Settings) -> None:
    make_user(session, "xiehui", "consumer_staff")
    quiet = settings.model_copy(
        update={
            "schedule_crawl": "",
            "schedule_deliver_seconds": 0,
            "schedule_price_check_seconds": 0,
            "schedule_price_follow_seconds": 0,
            "schedule_index": "",
        }
    )
    with TestClient(create_app(quiet)) as client:
        body = client.get("/api/jobs", headers=login_headers(client, "xiehui")).json()
    assert [job["enabled"] for job in body["data"]] == [False, True, False, False, False, False]
    broken = settings.model_copy(update={"schedule_detect": "at dawn"})
    with TestClient(create_app(broken)) as client:
        response = client.get("/api/jobs", headers=login_headers(client, "xiehui"))
    assert response.status_code == 503
    assert "调度配置有误" in response.json()["error"]["message"]


def test_jobs_tell_whether_a_scheduler_leads(client: TestClient, session: Session, engine: Engine) -> None:
    make_user(session, "xiehui", "consumer_staff")
    headers = login_headers(client, "xiehui")
    lock = leader_lock_for(engine)
    assert lock.try_acquire()
    try:
        assert client.get("/api/jobs", headers=headers).json()["scheduler_active"] is True
    finally:
        lock.release()
    assert client.get("/api/jobs", headers=headers).json()["scheduler_active"] is False
