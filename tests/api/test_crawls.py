"""GET /api/crawls: per-crawl statistics for staff, newest first, filterable."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.models import CrawlRun
from tests.utils.auth import login_headers, make_association, make_user

START = dt.datetime(2026, 11, 27, 6, 0)


@pytest.fixture
def runs(session: Session) -> None:
    session.add_all(
        [
            CrawlRun(
                spider="xinfadi", source="xinfadi", started_at=START, status="ok", pages=40, items_stored=780
            ),
            CrawlRun(
                spider="mofcom",
                source="mofcom",
                started_at=START + dt.timedelta(minutes=5),
                finished_at=START + dt.timedelta(minutes=6),
                status="failed",
                errors=4,
                error_samples=["请求失败 http://nc.mofcom.gov.cn/jghq/priceList: HttpError: HTTP 503"],
                duration_seconds=60.0,
            ),
            CrawlRun(
                spider="xinfadi",
                source="xinfadi",
                started_at=START + dt.timedelta(days=1),
                status="degraded",
                pages=38,
                items_stored=700,
                items_quarantined=3,
                items_unmapped=12,
                items_duplicate=20,
                errors=1,
            ),
        ]
    )
    session.commit()


def test_crawls_need_staff(client: TestClient) -> None:
    response = client.get("/api/crawls")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.usefixtures("runs")
def test_association_staff_see_crawl_health(client: TestClient, session: Session) -> None:
    association = make_association(session, "supermarkets", ["超市"])
    make_user(session, "chaoshi", "association_staff", association=association)
    body = client.get("/api/crawls", headers=login_headers(client, "chaoshi")).json()
    assert body["count"] == 3
    assert [run["status"] for run in body["data"]] == ["degraded", "failed", "ok"]
    newest = body["data"][0]
    assert (newest["items_stored"], newest["items_quarantined"], newest["items_unmapped"]) == (700, 3, 12)
    assert (newest["items_duplicate"], newest["pages"], newest["errors"]) == (20, 38, 1)
    failed = body["data"][1]
    assert failed["error_samples"] == ["请求失败 http://nc.mofcom.gov.cn/jghq/priceList: HttpError: HTTP 503"]
    assert failed["duration_seconds"] == 60.0
    assert failed["started_at"].startswith("2026-11-27T06:05:00")


@pytest.mark.usefixtures("runs")
def test_filters_paging_and_one_run(client: TestClient, session: Session) -> None:
    make_user(session, "xiehui", "consumer_staff")
    headers = login_headers(client, "xiehui")
    body = client.get("/api/crawls", params={"source": "xinfadi", "size": 1}, headers=headers).json()
    assert body["count"] == 2
    assert [run["status"] for run in body["data"]] == ["degraded"]
    body = client.get("/api/crawls", params={"status": "failed"}, headers=headers).json()
    assert [run["spider"] for run in body["data"]] == ["mofcom"]
    run_id = body["data"][0]["id"]
    assert client.get(f"/api/crawls/{run_id}", headers=headers).json()["errors"] == 4


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/crawls?status=exploded", 422),
        ("/api/crawls?size=0", 422),
        ("/api/crawls/999", 404),
        ("/api/crawls/99999999999999999999", 422),
        ("/api/crawls/abc", 422),
    ],
)
def test_bad_requests_are_clean_errors(client: TestClient, session: Session, path: str, status: int) -> None:
    make_user(session, "xiehui", "consumer_staff")
    response = client.get(path, headers=login_headers(client, "xiehui"))
    assert response.status_code == status
    assert response.json()["error"]["message"]
