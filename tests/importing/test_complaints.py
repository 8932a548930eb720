"""Complaint import: through the shared intake, bad rows named, idempotent on the row's content."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Complaint
from importing.complaints import import_complaints
from importing.readers import read_rows

COMPLAINTS_JSONL = """\
{"text": "在好又多超市买的口罩一盒卖到120元，平时只要30元，涉嫌哄抬价格。", "merchant": "好又多超市", \
"district": "南岗区", "created_at": "2026-03-01 10:00", "amount": "¥120"}
{"text": "手机屏幕买了三天就坏了，商家拒绝退换。", "nature": "售后服务", "contact": "13912345678"}
{"title": "无正文"}
not json
{"text": "短"}
{"text": "电饭煲宣传是IH加热，实际是普通底盘加热，属于虚假宣传。", "created_at": "昨天"}
{"text": "电饭煲宣传是IH加热，实际是普通底盘加热，属于虚假宣传。", "amount": "-5"}
{"text": "电饭煲宣传是IH加热，实际是普通底盘加热，属于虚假宣传。", "nature": "外星人"}
"""


def _import(session: Session, content: str, name: str = "complaints.jsonl"):
    return import_complaints(session, read_rows(io.BytesIO(content.encode()), Path(name)), batch_size=3)


def test_good_rows_land_bad_rows_named(session: Session) -> None:
    summary = _import(session, COMPLAINTS_JSONL)
    assert summary.as_dict() == {"read": 8, "imported": 2, "skipped": 0, "rejected": 6, "provisional": 0}
    reasons = {problem.line: problem.reason for problem in summary.problems}
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert "text" in reasons[3] and "JSON" in reasons[4] and "太短" in reasons[5]
    assert "日期" in reasons[6] and "负数" in reasons[7] and "投诉性质" in reasons[8]
    complaints = {c.district: c for c in session.scalars(select(Complaint))}
    masks = complaints["南岗区"]
    assert masks.channel == "import" and masks.merchant_name == "好又多超市"
    assert masks.created_at == dt.datetime(2026, 3, 1, 2, 0), "10:00 China time, stored as UTC"
    assert masks.amount == Decimal("120")
    assert masks.events[0].action == "received"
    given = complaints[None]
    assert (given.nature, given.nature_confidence) == ("售后服务", None), "a nature given in the file is kept"


def test_rerun_and_other_file_with_same_rows_add_nothing(session: Session) -> None:
    _import(session, COMPLAINTS_JSONL)
    again = _import(session, COMPLAINTS_JSONL)
    assert (again.imported, again.skipped, again.rejected) == (0, 2, 6)
    as_csv = (
        "text,merchant,district,created_at,amount\n"
        "在好又多超市买的口罩一盒卖到120元，平时只要30元，涉嫌哄抬价格。,"
        "好又多超市,南岗区,2026-03-01 10:00,120\n"
    )
    other = _import(session, as_csv, "export.csv")
    assert (other.imported, other.skipped) == (0, 1)
    assert session.scalar(select(func.count()).select_from(Complaint)) == 2


def test_same_text_on_another_day_is_another_complaint(session: Session) -> None:
    rows = '{"text": "超市鸡蛋标价与结算价不一致，多收钱。", "created_at": "2026-03-01"}\n'
    rows += '{"text": "超市鸡蛋标价与结算价不一致，多收钱。", "created_at": "2026-03-02"}\n'
    assert _import(session, rows).imported == 2


def test_import_keys_stay_those_of_earlier_releases(session: Session) -> None:
    """A key is the SHA-256 of the validated row's canonical JSON (sorted keys, text as is) with its
    time: rows imported by an earlier release are recognised, whatever columns the file left out."""
    content = (
        '{"text": "超市鸡蛋标价8元结账收12元", "amount": "12.5", "区县": "南岗区", '
        '"created_at": "2026-03-01 08:00"}\n'
    )
    import_complaints(session, read_rows(io.BytesIO(content.encode()), Path("c.jsonl")))
    stored = session.scalars(select(Complaint)).one()
    expected = {
        "title": None,
        "text": "超市鸡蛋标价8元结账收12元",
        "demands": None,
        "merchant_name": None,
        "merchant_credit_code": None,
        "product_category": None,
        "district": "南岗区",
        "amount": "12.5",
        "nature": None,
        "industry": None,
        "consumer_name": None,
        "contact": None,
        "created_at": "2026-03-01T00:00:00",
    }
    canonical = json.dumps(expected, ensure_ascii=False, sort_keys=True)
    assert stored.import_key == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
