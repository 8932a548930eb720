"""GET /api/complaints/search and its export: who may search what, masking, cursors, files."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.main import create_app
from core.config import Settings
from core.models import Association, AuditLog, Complaint
from search.service import get_search_backend, index_complaints
from tests.utils.auth import login_headers, make_user
from tests.utils.search import make_corpus

PHONE = "13912345678"


@pytest.fixture
def corpus(client: TestClient, session: Session, settings: Settings) -> list[Complaint]:
    complaints = make_corpus(session)
    complaints[1].text = '=HYPERLINK("http://evil") 口罩 ' + complaints[1].text
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    backend = get_search_backend(settings, engine)  # the app's index (a sidecar on PostgreSQL)
    assert index_complaints(session, [c.id for c in complaints], backend=backend)
    return complaints


@pytest.fixture
def consumer_headers(client: TestClient, session: Session) -> dict[str, str]:
    make_user(session, "xiaoxie", "consumer_staff")
    return login_headers(client, "xiaoxie")


@pytest.fixture
def association_headers(client: TestClient, session: Session, corpus: list[Complaint]) -> dict[str, str]:
    association = session.get(Association, corpus[1].association_id)  # the one with the phone numbers
    make_user(session, "hangye", "association_staff", association=association)
    return login_headers(client, "hangye")


def test_search_needs_staff(client: TestClient, corpus: list[Complaint]) -> None:
    response = client.get("/api/complaints/search", params={"q": "口罩"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_consumer_association_sees_original_text_with_highlights(
    client: TestClient, corpus: list[Complaint], consumer_headers: dict[str, str]
) -> None:
    response = client.get("/api/complaints/search", params={"q": "电话 口罩"}, headers=consumer_headers)
    body = response.json()
    assert response.status_code == 200
    assert body["personal_data_masked"] is False
    assert body["total"] == 3
    for hit in body["hits"]:
        assert PHONE in hit["text"]
        assert hit["created_at"].endswith("Z")
        marked = {hit["text"][h["start"] : h["end"]] for h in hit["highlights"]}
        assert "电话" in marked
        assert marked <= {"一次性口罩", "口罩", "电话"}


def test_association_searches_only_its_complaints_masked(
    client: TestClient, corpus: list[Complaint], association_headers: dict[str, str]
) -> None:
    own = {c.id for c in corpus if c.association_id == corpus[1].association_id and "电话" in c.text}
    assert own
    body = client.get("/api/complaints/search", params={"q": "电话"}, headers=association_headers).json()
    assert body["personal_data_masked"] is True
    assert {hit["id"] for hit in body["hits"]} == own
    assert all(PHONE not in hit["text"] for hit in body["hits"])
    assert sum(f["count"] for f in body["facets"]["status"]) == len(own)


def test_association_staff_without_association_find_nothing(
    client: TestClient, session: Session, corpus: list[Complaint]
) -> None:
    make_user(session, "orphan", "association_staff")
    body = client.get("/api/complaints/search", headers=login_headers(client, "orphan")).json()
    assert (body["total"], body["hits"]) == (0, [])


def test_bad_cursor_and_deep_page_are_client_errors(
    client: TestClient, corpus: list[Complaint], consumer_headers: dict[str, str]
) -> None:
    bad = client.get("/api/complaints/search", params={"cursor": "not-a-cursor"}, headers=consumer_headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "翻页游标无效"
    other_sort = client.get(
        "/api/complaints/search", params={"size": 2, "sort": "date"}, headers=consumer_headers
    )
    mismatched = client.get(
        "/api/complaints/search",
        params={"q": "口罩", "cursor": other_sort.json()["next_cursor"]},
        headers=consumer_headers,
    )
    assert mismatched.status_code == 400
    deep = client.get("/api/complaints/search", params={"page": 600, "size": 20}, headers=consumer_headers)
    assert deep.status_code == 422
    assert "cursor" in deep.json()["error"]["message"]


def test_csv_export_streams_every_hit_with_chinese_headers(
    client: TestClient, corpus: list[Complaint], consumer_headers: dict[str, str]
) -> None:
    response = client.get(
        "/api/complaints/search/export",
        params={"q": "口罩", "filename": "../../etc/口罩 导出.csv"},
        headers=consumer_headers,
    )
    assert response.status_code == 200
    disposition = unquote(response.headers["content-disposition"])
    assert disposition.endswith("''口罩_导出.csv")
    assert "/" not in disposition.split("''", 1)[1]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    total = client.get("/api/complaints/search", params={"q": "口罩"}, headers=consumer_headers).json()[
        "total"
    ]
    assert rows[0][:5] == ["编号", "查询码", "登记时间", "标题", "投诉内容"]
    assert len(rows) - 1 == total
    assert any(PHONE in row[4] for row in rows[1:])
    assert all(not row[4].startswith("=") for row in rows[1:])  # no formula reaches a spreadsheet


def test_excel_export_for_an_association_is_masked(
    client: TestClient, corpus: list[Complaint], association_headers: dict[str, str]
) -> None:
    response = client.get(
        "/api/complaints/search/export", params={"format": "xlsx", "q": "电话"}, headers=association_headers
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号"
    assert len(rows) > 1
    assert all(PHONE not in str(row[4]) for row in rows[1:])


def test_export_limit_and_bad_input(
    client: TestClient, corpus: list[Complaint], consumer_headers: dict[str, str]
) -> None:
    limited = client.get("/api/complaints/search/export", params={"limit": 5}, headers=consumer_headers)
    assert len(limited.content.decode("utf-8-sig").strip().splitlines()) == 6
    too_many = client.get(
        "/api/complaints/search/export", params={"limit": 100_001}, headers=consumer_headers
    )
    assert too_many.status_code == 422
    wrong_format = client.get(
        "/api/complaints/search/export", params={"format": "pdf"}, headers=consumer_headers
    )
    assert wrong_format.status_code == 422


def test_unreachable_search_cluster_is_a_503_not_a_crash(settings: Settings, session: Session) -> None:
    make_user(session, "xiaoxie2", "consumer_staff")
    offline = settings.model_copy(update={"search_url": "http://127.0.0.1:9"})
    with TestClient(create_app(offline)) as client:
        response = client.get(
            "/api/complaints/search", params={"q": "口罩"}, headers=login_headers(client, "xiaoxie2")
        )
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "检索服务暂不可用，请稍后重试"


def test_unmasked_export_is_audited(
    client: TestClient, session: Session, corpus: list[Complaint], consumer_headers: dict[str, str]
) -> None:
    response = client.get("/api/complaints/search/export", params={"q": "口罩"}, headers=consumer_headers)
    assert response.status_code == 200
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "complaint.export")).one()
    assert entry.actor == "xiaoxie"
    assert entry.after is not None and entry.after["query"]["q"] == "口罩"
