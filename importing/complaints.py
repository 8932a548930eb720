"""Importing complaints (``text`` + optional fields) through the same intake as every other channel.

Each row becomes a :class:`ComplaintCreate` and goes through :func:`complaints.intake.create_complaint`
(classification, routing, deadline, timeline). Its ``import_key`` hashes the row's content, not the file
or line, so re-running a file — or importing an overlapping export — adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from complaints.classification import get_classifier
from complaints.intake import create_complaint
from complaints.schemas import ComplaintCreate
from complaints.workflow import CHINA_TIME
from core.models import Complaint
from importing.batches import feed_batches
from importing.fields import FieldError, ImportSummary, parse_datetime, parse_money, text_value
from importing.readers import BadRow, Row

BATCH_SIZE = 500
IMPORT_ACTOR = "bulk-import"
# Column names accepted for each field (the documented one first).
COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("text", "content", "投诉内容"),
    "title": ("title", "标题"),
    "merchant_name": ("merchant", "merchant_name", "被投诉商家"),
    "merchant_credit_code": ("merchant_credit_code", "credit_code"),
    "district": ("district", "区县"),
    "nature": ("nature", "投诉性质"),
    "industry": ("industry", "行业"),
    "contact": ("contact", "联系方式"),
    "consumer_name": ("consumer_name", "name", "投诉人"),
    "demands": ("demands", "诉求"),
    "product_category": ("product_category", "category"),
}


@dataclass(frozen=True)
class PendingComplaint:
    line: int
    data: ComplaintCreate
    created_at: dt.datetime | None
    import_key: str


def _first_present(row: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = text_value(row, name)
        if value is not None:
            return value
    return None


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "row"
        ctx = item.get("ctx", {})
        if item["type"] == "string_too_short":
            message = f"内容太短，至少 {ctx.get('min_length')} 个字 (too short)"
        elif item["type"] == "string_too_long":
            message = f"内容太长，最多 {ctx.get('max_length')} 个字 (too long)"
        elif item["type"] == "string_pattern_mismatch":
            message = f"格式不正确 (does not match {ctx.get('pattern')})"
        else:
            message = str(ctx.get("error", item["msg"]))
        parts.append(f"{field}：{message}")
    return "；".join(parts)


def import_key(data: ComplaintCreate, created_at: dt.datetime | None) -> str:
    """A hash of what the complaint says (and when), independent of file name and line number."""
    content = data.model_dump(mode="json")
    content["created_at"] = created_at.isoformat() if created_at else None
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pending_complaint(row: Row) -> PendingComplaint:
    """Validate one row, or raise :class:`FieldError` saying what is wrong."""
    values: dict[str, Any] = {field: _first_present(row.data, names) for field, names in COLUMNS.items()}
    if values["text"] is None:
        raise FieldError("缺少必填字段 text（投诉内容） (missing text)")
    amount = text_value(row.data, "amount")
    values["amount"] = parse_money(amount, "amount") if amount is not None else None
    created = text_value(row.data, "created_at")
    created_at = parse_datetime(created, "created_at", naive_zone=CHINA_TIME) if created is not None else None
    try:
        data = ComplaintCreate(**values)
    except ValidationError as exc:
        raise FieldError(_describe(exc)) from exc
    return PendingComplaint(row.line, data, created_at, import_key(data, created_at))


def import_complaints(
    session: Session,
    rows: Iterable[Row | BadRow],
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import complaint rows, committing every ``batch_size`` rows; returns what happened to them."""
    classifier = get_classifier()

    def store(batch: list[PendingComplaint], summary: ImportSummary) -> None:
        keys = [pending.import_key for pending in batch]
        seen = set(session.scalars(select(Complaint.import_key).where(Complaint.import_key.in_(keys))))
        for pending in batch:
            if pending.import_key in seen:
                summary.skipped += 1
                continue
            seen.add(pending.import_key)
            create_complaint(
                session,
                pending.data,
                channel="import",
                actor=IMPORT_ACTOR,
                created_at=pending.created_at,
                import_key=pending.import_key,
                classifier=classifier,
            )
            summary.imported += 1

    return feed_batches(
        session, rows, prepare=pending_complaint, store=store, batch_size=batch_size, on_batch=on_batch
    )
