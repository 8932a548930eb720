"""Index entries made in worker processes are the entries this process would make, in the same order."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from decimal import Decimal

from sqlalchemy.orm import Session

from complaints.stored import StoredComplaint
from core.models import Complaint
from search.backends.base import SearchBackend
from search.documents import WORK_CHUNK, document_for, indexed_rows, parallel_documents
from search.service import check_consistency

TEXTS = (
    "我叫张三，电话13812345678，在阳光小区3栋2单元501室附近的药店买的N95口罩一盒要价199元，哄抬价格",
    "超市鸡蛋标价与结算价不一致，多收了我5.5元",
    "网购的８４消毒液是假冒伪劣产品，客服不给退款 😡",
)


def _rows(count: int) -> list[StoredComplaint]:
    start = dt.datetime(2026, 3, 1, 8, 30)
    return [
        StoredComplaint(
            id=number,
            tracking_code=f"TS-DOCS{number:05d}",
            title="投诉" if number % 2 else None,
            text=f"{TEXTS[number % len(TEXTS)]} #{number}",
            merchant_name="平价大药房" if number % 3 else None,
            product_category="口罩" if number % 5 else None,
            nature="价格",
            industry="医药",
            district="南岗区",
            status="received",
            created_at=start + dt.timedelta(minutes=number),
            amount=Decimal("199.00") if number % 4 else None,
            association_id=None,
        )
        for number in range(1, count + 1)
    ]


def test_workers_make_the_same_entries_in_row_order() -> None:
    rows = _rows(5 * WORK_CHUNK + 17)  # more tasks than may be in flight at once
    expected = [document_for(row) for row in rows]
    with parallel_documents(len(rows), workers=2, min_rows=0) as documents_of:
        assert len(multiprocessing.active_children()) >= 2  # the work really leaves this process
        made = list(documents_of(iter(rows)))
    assert made == expected
    assert "13812345678" not in made[0].text and "13812345678" not in made[0].tokens


def test_small_jobs_stay_in_this_process() -> None:
    before = len(multiprocessing.active_children())
    with parallel_documents(10, workers=2) as documents_of:
        assert len(multiprocessing.active_children()) == before
        assert list(documents_of(_rows(3))) == [document_for(row) for row in _rows(3)]


def test_a_rebuild_fed_by_workers_matches_the_database(
    backend: SearchBackend, corpus: list[Complaint], session: Session
) -> None:
    with parallel_documents(len(corpus), workers=2, min_rows=0) as documents_of:
        written = backend.rebuild(documents_of(indexed_rows(session)))
    assert written == len(corpus)
    assert check_consistency(session, backend).consistent
