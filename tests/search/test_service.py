"""Index upkeep on both backends: drift found and repaired, rebuild with search staying up."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.db import make_engine
from core.models import Complaint
from search.backends.base import SearchBackend
from search.backends.elastic import ElasticBackend, make_client
from search.backends.fts5 import Fts5Backend
from search.query import SearchQuery
from search.service import check_consistency, index_complaints, prepare, reindex_all, repair
from tests.utils.search import search_document


def _ids(backend: SearchBackend, **fields: Any) -> set[int]:
    return {hit.document.id for hit in backend.search(prepare(SearchQuery(size=1000, **fields))).hits}


def test_check_reports_missing_stale_and_orphaned_and_repair_fixes_them(
    backend: SearchBackend, corpus: list[Complaint], session: Session
) -> None:
    assert check_consistency(session, backend).consistent
    added = Complaint(tracking_code="TS-NEWONE0001", text="新投诉：鸡蛋涨价", status="received")
    session.add(added)
    corpus[2].status = "closed"
    session.commit()
    session.execute(delete(Complaint).where(Complaint.id == corpus[5].id))
    session.commit()

    report = check_consistency(session, backend)
    assert (report.missing, report.stale, report.orphaned) == ([added.id], [corpus[2].id], [corpus[5].id])
    assert repair(session, backend, report) == 3
    assert check_consistency(session, backend).consistent
    assert added.id in _ids(backend, q="鸡蛋")
    assert corpus[2].id in _ids(backend, status=("closed",))
    assert corpus[5].id not in _ids(backend)


def test_rebuild_replaces_the_index_while_search_answers(
    backend: SearchBackend, corpus: list[Complaint], session: Session
) -> None:
    before = _ids(backend, q="口罩")
    seen_during: list[set[int]] = []
    written = reindex_all(session, backend, progress=lambda _: seen_during.append(_ids(backend, q="口罩")))
    assert written == len(corpus)
    assert seen_during and all(ids == before for ids in seen_during)  # the old index answers meanwhile
    assert _ids(backend, q="口罩") == before
    assert check_consistency(session, backend).consistent
    if isinstance(backend, ElasticBackend):
        assert len(backend.client.indices.get_alias(name=backend.alias)) == 1


def test_index_complaints_deletes_what_the_database_no_longer_has(
    backend: SearchBackend, corpus: list[Complaint], session: Session
) -> None:
    gone = corpus[0].id
    session.execute(delete(Complaint).where(Complaint.id == gone))
    session.commit()
    assert index_complaints(session, [gone], backend=backend)
    assert gone not in _ids(backend)


def test_unreachable_index_keeps_the_complaint_and_reports_drift(session: Session) -> None:
    complaint = Complaint(tracking_code="TS-OFFLINE001", text="投诉", status="received")
    complaint.created_at = dt.datetime(2026, 3, 1)
    session.add(complaint)
    session.commit()
    unreachable = ElasticBackend(make_client("http://127.0.0.1:9"), "nowhere")
    assert index_complaints(session, [complaint.id], backend=unreachable) is False
    assert session.get(Complaint, complaint.id) is not None


def test_fts5_keeps_one_set_of_indexes_across_starts_and_rebuilds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    backend = Fts5Backend(engine)
    for _ in range(3):
        backend.ensure_index()
    backend.rebuild(iter(()), None)
    backend.ensure_index()
    with engine.connect() as conn:
        indexes = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'search_docs'"
            " AND name NOT LIKE 'sqlite_autoindex%'"
        ).all()
    assert len(indexes) == 2


def test_workers_starting_together_share_one_index_under_the_alias(
    request: pytest.FixtureRequest,
) -> None:
    url = request.getfixturevalue("osmem_clone").url
    alias = "fairmarket-startup-race"
    backends = [ElasticBackend(make_client(url), alias) for _ in range(6)]
    barrier = threading.Barrier(len(backends))

    def start(backend: ElasticBackend) -> None:
        barrier.wait()
        backend.ensure_index()

    with ThreadPoolExecutor(len(backends)) as pool:
        list(pool.map(start, backends))
    assert list(backends[0].client.indices.get_alias(name=alias)) == [f"{alias}-initial"]
    backends[0].upsert(search_document(number, "口罩 涨价", dt.datetime(2026, 3, 1)) for number in (1, 2, 3))
    assert backends[1].search(prepare(SearchQuery(size=10))).total == 3
    for backend in backends:
        backend.close()
