"""Importing complaints (``text`` + optional fields) through the same intake as every other channel.

This process reads the file and hands chunks of rows to :func:`prepare_rows` — in worker processes for
large files — which judges each row alone (a bad one is rejected with its line and reason, the rest go
on) and does the text work: mask, tokenize once and classify (:func:`complaints.intake.analyse_texts`).
Back here, rows already stored are skipped, the batch is routed and stored
(:func:`complaints.intake.store_complaints`: Core executemany of rows and timeline events), committed,
and indexed on the search backend from the same terms by a writer thread. Its ``import_key`` hashes the
row's content, not the file or line, so re-running a file — or importing an overlapping export — adds
nothing twice (a re-run still validates and tokenizes every row: the key is known only after
validation). A crash between a commit and its indexing leaves drift that
``fairmarket reindex --check --repair`` fixes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from complaints.classification import ComplaintClassifier
from complaints.intake import (
    Filing,
    Router,
    TextAnalysis,
    analyse_texts,
    learn_corrections,
    store_complaints,
    use_classifier_in_workers,
    words_of,
    worker_classifier,
)
from complaints.schemas import ComplaintCreate
from complaints.stored import StoredComplaint
from core.clock import CHINA
from core.config import get_settings
from core.models import Complaint
from core.parallel import parallel_chunks
from importing.fields import FieldError, ImportSummary, parse_datetime, parse_money
from importing.readers import BadRow, Row
from search.backends.base import SearchBackend, chunked
from search.documents import document_for
from search.query import SearchDocument
from search.service import get_search_backend

log = logging.getLogger(__name__)
BATCH_SIZE = 500
IMPORT_ACTOR = "bulk-import"
IMPORT_CHANNEL = "import"
# Column names accepted for each field (the documented one first).
COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("text", "content", "投诉内容", "留言详情"),  # 留言…: government message-board exports
    "title": ("title", "标题", "留言主题"),
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
# Every field a file may hold (what ``--column field=header`` may name).
FIELDS = (*COLUMNS, "amount", "created_at")
CREATED_AT_COLUMNS = ("created_at", "date", "投诉时间", "留言时间")
KNOWN_COLUMNS = frozenset(
    {*(name for names in COLUMNS.values() for name in names), "amount", *CREATED_AT_COLUMNS}
)


@dataclass(frozen=True)
class PendingComplaint:
    line: int
    data: ComplaintCreate
    created_at: dt.datetime | None
    import_key: str


def _value(row: dict[str, Any], name: str) -> Any:
    """The cell as given (the schema judges its type), a number as its digits, blank text as missing."""
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _first_present(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = _value(row, name)
        if value is not None:
            return value
    return None


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "行"
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


# json.dumps(content, ensure_ascii=False, sort_keys=True), without building an encoder per row
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def import_key(data: ComplaintCreate, created_at: dt.datetime | None) -> str:
    """A hash of what the complaint says (and when), independent of file name and line number."""
    content = data.model_dump(mode="json")
    content["created_at"] = created_at.isoformat() if created_at else None
    canonical = _CANONICAL_JSON.encode(content)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pending_complaint(row: Row) -> PendingComplaint:
    """Validate one row, or raise :class:`FieldError` saying what is wrong."""
    values: dict[str, Any] = {field: _first_present(row.data, names) for field, names in COLUMNS.items()}
    if values["text"] is None:
        raise FieldError("缺少必填字段 text（投诉内容） (missing text)")
    amount = _value(row.data, "amount")
    if isinstance(amount, dict | list | bool):
        raise FieldError("amount 应为数字 (amount must be a number)")
    values["amount"] = parse_money(amount, "amount") if amount is not None else None
    created = _first_present(row.data, CREATED_AT_COLUMNS)
    if isinstance(created, dict | list | bool):
        raise FieldError("created_at 应为日期文本，如 2026-03-01 (created_at must be a date)")
    created_at = (
        None
        if created is None
        else created.replace(microsecond=0)
        if isinstance(created, dt.datetime)  # an Excel date cell
        else parse_datetime(created, "created_at", naive_zone=CHINA)
    )
    try:  # missing fields keep their defaults: a validator run on each None cost more than the rest
        data = ComplaintCreate(**{field: value for field, value in values.items() if value is not None})
    except ValidationError as exc:
        raise FieldError(_describe(exc)) from exc
    return PendingComplaint(row.line, data, created_at, import_key(data, created_at))


class Rejected(NamedTuple):
    line: int
    reason: str


class Prepared(NamedTuple):
    """A valid row with its text work done: what a worker process sends back (plain values, cheap to
    pickle: a pydantic model costs far more to unpickle than to validate anew)."""

    line: int
    values: dict[str, Any]  # ComplaintCreate.model_dump()
    created_at: dt.datetime | None
    import_key: str
    analysis: TextAnalysis


def _judge(line: int, data: dict[str, Any] | None, reason: str) -> PendingComplaint | Rejected:
    """One row judged alone: unreadable and invalid ones rejected with their line."""
    if data is None:
        return Rejected(line, reason)
    try:
        return pending_complaint(Row(line, data))
    except FieldError as exc:
        return Rejected(line, str(exc))
    except (ValueError, OverflowError, RecursionError) as exc:  # anything a value can still raise
        return Rejected(line, f"无法读取此行：{exc} (unreadable row)")


def prepare_rows(rows: list[tuple[int, dict[str, Any] | None, str]]) -> list[Prepared | Rejected]:
    """Validate, mask, tokenize (once) and classify a chunk of ``(line, data, unreadable reason)``.

    Runs in a worker process for large files: everything here is pure computation on the row, so the
    main process is left to read, store and index.
    """
    judged = [_judge(*row) for row in rows]
    valid = [item for item in judged if isinstance(item, PendingComplaint)]
    analyses = iter(analyse_texts([words_of(item.data) for item in valid], worker_classifier()))
    return [
        Prepared(item.line, item.data.model_dump(), item.created_at, item.import_key, next(analyses))
        if isinstance(item, PendingComplaint)
        else item
        for item in judged
    ]


def _backend_of(session: Session) -> SearchBackend:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return get_search_backend(get_settings(), engine)


def import_complaints(
    session: Session,
    rows: Iterable[Row | BadRow],
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[ImportSummary], None] | None = None,
    backend: SearchBackend | None = None,
    classifier: ComplaintClassifier | None = None,
    workers: int = 1,
) -> ImportSummary:
    """Import complaint rows, committing and indexing every ``batch_size`` rows; returns what happened.

    ``backend``: the search index (default: the configured one). ``workers`` ≥ 2: validate, mask,
    tokenize and classify in that many forked processes while this one reads, stores and indexes.
    """
    summary = ImportSummary()
    backend = backend or _backend_of(session)
    if classifier is None:
        classifier = ComplaintClassifier()
        learn_corrections(session, classifier)
    use_classifier_in_workers(classifier)
    router = Router(session)
    session.commit()  # no read transaction held while the workers run

    def chunks() -> Iterator[list[tuple[int, dict[str, Any] | None, str]]]:
        for chunk in chunked(rows, batch_size):
            summary.read += len(chunk)
            yield [
                (row.line, None, row.reason) if isinstance(row, BadRow) else (row.line, row.data, "")
                for row in chunk
            ]

    with (
        parallel_chunks(prepare_rows, workers=workers) as prepare,
        backend.bulk_writes(),
        _IndexWriter(backend, summary) as index_writer,  # its thread starts after the fork
    ):
        for prepared in prepare(chunks()):
            batch = []
            for item in prepared:
                if isinstance(item, Rejected):
                    summary.reject(item.line, item.reason)
                else:
                    batch.append(item)
            stored = _store(session, router, _fresh(session, batch, summary), summary)
            _pause_for_crash_test()
            index_writer.put(*stored)
            if on_batch is not None:
                on_batch(summary)
    return summary


PAUSE_AFTER_COMMIT = "FAIRMARKET_TEST_PAUSE_AFTER_COMMIT"


def _pause_for_crash_test() -> None:
    """Crash tests: with ``FAIRMARKET_TEST_PAUSE_AFTER_COMMIT=FILE`` the import stops for good right after
    its first batch is committed and before that batch is indexed, and creates FILE to say so; the test
    then kills the process (SIGKILL), the one moment a crash leaves rows the index does not have."""
    marker = os.environ.get(PAUSE_AFTER_COMMIT)
    if marker:
        Path(marker).touch()
        while True:
            time.sleep(1)


def _fresh(session: Session, batch: list[Prepared], summary: ImportSummary) -> list[Prepared]:
    """The rows of a batch not stored yet (by an earlier run, batch or row of this one)."""
    if not batch:
        return []
    keys = [item.import_key for item in batch]
    seen = set(session.scalars(select(Complaint.import_key).where(Complaint.import_key.in_(keys))))
    kept = []
    for item in batch:
        if item.import_key in seen:
            summary.skipped += 1
            continue
        seen.add(item.import_key)
        kept.append(item)
    return kept


class _IndexWriter:
    """Writes each stored batch's index entries on a thread while the import stores the next batch.

    Batches that wait are written together (up to ``MAX_WAITING`` of them): Elasticsearch costs less per
    document in larger bulk requests. Memory stays bounded; entries the index refuses are counted in
    ``summary.unindexed`` (their rows are committed: ``reindex --check --repair`` catches up).
    """

    MAX_WAITING = 4

    def __init__(self, backend: SearchBackend, summary: ImportSummary) -> None:
        self._backend = backend
        self._summary = summary
        self._pending: queue.Queue[list[SearchDocument] | None] = queue.Queue(maxsize=self.MAX_WAITING)
        self._thread = threading.Thread(target=self._run, name="complaint-index-writer")

    def __enter__(self) -> _IndexWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pending.put(None)
        self._thread.join()

    def put(self, stored: list[StoredComplaint], analyses: list[TextAnalysis]) -> None:
        if stored:
            self._pending.put(
                [document_for(row, analysis) for row, analysis in zip(stored, analyses, strict=True)]
            )

    def _run(self) -> None:
        done = False
        while not done:
            documents = self._pending.get()
            if documents is None:
                return
            for _ in range(self.MAX_WAITING):  # whatever else waits goes in the same request
                try:
                    more = self._pending.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                    break
                documents += more
            try:
                self._backend.upsert(documents)
            except Exception:  # the rows are safe in the database; the check finds and repairs the drift
                log.exception("search index not updated for %d imported complaints", len(documents))
                self._summary.unindexed += len(documents)


def _store(
    session: Session, router: Router, batch: list[Prepared], summary: ImportSummary
) -> tuple[list[StoredComplaint], list[TextAnalysis]]:
    """Store and commit a batch; returns the rows stored and their analyses, for the index."""
    filings = [Filing(item.values, item.created_at, item.import_key) for item in batch]
    analyses = [item.analysis for item in batch]
    try:
        stored = store_complaints(
            session, filings, analyses, channel=IMPORT_CHANNEL, actor=IMPORT_ACTOR, router=router
        )
        session.commit()
    except IntegrityError:  # another import stored some of these rows meanwhile: keep the rest
        session.rollback()
        keys = [f.import_key for f in filings]
        taken = set(session.scalars(select(Complaint.import_key).where(Complaint.import_key.in_(keys))))
        pairs = [(f, a) for f, a in zip(filings, analyses, strict=True) if f.import_key not in taken]
        summary.skipped += len(filings) - len(pairs)
        stored = store_complaints(
            session,
            [f for f, _ in pairs],
            [a for _, a in pairs],
            channel=IMPORT_CHANNEL,
            actor=IMPORT_ACTOR,
            router=router,
        )
        session.commit()
        analyses = [a for _, a in pairs]
    summary.imported += len(stored)
    return stored, analyses
