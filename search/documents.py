"""How a complaint becomes an index entry, and how a full rebuild makes entries on every core.

``document_for`` masks personal data, tokenizes and hashes one complaint. A full rebuild spends most of
its time in jieba (pure Python, one core), so ``parallel_documents`` spreads that work over forked worker
processes — the way jieba's own parallel mode does — while this process reads rows and the backend
writes; the order of the stream and a bounded amount of work in flight are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from complaints.privacy import MASKING_VERSION, mask_optional, mask_personal_data
from complaints.stored import StoredComplaint
from core.models import Complaint
from core.parallel import default_workers, parallel_chunks
from core.tokenizer import get_tokenizer
from search.backends.base import chunked
from search.query import SearchDocument

READ_CHUNK = 1000
WORK_CHUNK = 250  # rows per task sent to a worker: large enough that pickling is a small overhead
PARALLEL_FROM = 5000  # fewer complaints than this: forking costs more than it saves
DocumentMaker = Callable[[Iterable[Any]], Iterator[SearchDocument]]


def _millisecond(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=None)


def source_hash(complaint: Any) -> str:
    """Hash of every complaint field the index holds; a different hash means the index is stale."""
    fields = [
        MASKING_VERSION,
        complaint.tracking_code,
        complaint.title,
        complaint.text,
        complaint.merchant_name,
        complaint.product_category,
        complaint.nature,
        complaint.industry,
        complaint.district,
        complaint.status,
        _millisecond(complaint.created_at).isoformat(),
        None if complaint.amount is None else str(Decimal(complaint.amount).quantize(Decimal("0.01"))),
        complaint.association_id,
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


class PreparedText(Protocol):
    """A complaint's masked title, text and merchant and their index terms, worked out by the intake."""

    @property
    def masked_title(self) -> str | None: ...
    @property
    def masked_text(self) -> str: ...
    @property
    def masked_merchant(self) -> str | None: ...
    @property
    def tokens(self) -> str: ...


def document_for(complaint: Any, prepared: PreparedText | None = None) -> SearchDocument:
    """The public index entry: every free-text field masked before it is stored or tokenized.

    ``complaint`` is a ``Complaint`` or a row of its ``INDEXED_COLUMNS``; ``prepared``, when given, is
    the intake's own masking and terms of the same complaint (jieba does not run twice).
    """
    if prepared is None:
        title = mask_optional(complaint.title)
        text = mask_personal_data(complaint.text or "")
        merchant = mask_optional(complaint.merchant_name)
        tokens = get_tokenizer().index_text(title, text, merchant, mask_optional(complaint.product_category))
    else:
        title, text, merchant = prepared.masked_title, prepared.masked_text, prepared.masked_merchant
        tokens = prepared.tokens
    amount = complaint.amount
    return SearchDocument(
        id=complaint.id,
        tracking_code=complaint.tracking_code,
        title=title,
        text=text,
        tokens=tokens,
        nature=complaint.nature,
        industry=complaint.industry,
        district=mask_optional(complaint.district),
        merchant=merchant,
        status=complaint.status,
        created_at=_millisecond(complaint.created_at),
        amount_cents=None if amount is None else int((Decimal(amount) * 100).to_integral_value()),
        association_id=complaint.association_id,
        source_hash=source_hash(complaint),
    )


INDEXED_COLUMNS = (
    Complaint.id,
    Complaint.tracking_code,
    Complaint.title,
    Complaint.text,
    Complaint.merchant_name,
    Complaint.product_category,
    Complaint.nature,
    Complaint.industry,
    Complaint.district,
    Complaint.status,
    Complaint.created_at,
    Complaint.amount,
    Complaint.association_id,
)


def indexed_rows(session: Session, ids: Iterable[int] | None = None) -> Iterator[Any]:
    """The indexed columns of committed complaints in id order, read in keyset chunks.

    Plain rows (no ORM objects: a third of the cost of a reindex otherwise), through a connection of
    their own so the caller's session is left alone; no transaction outlives a chunk.
    """
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    if ids is not None:
        for chunk in chunked(sorted(set(ids)), READ_CHUNK):
            with engine.connect() as conn:
                rows = conn.execute(
                    select(*INDEXED_COLUMNS).where(Complaint.id.in_(chunk)).order_by(Complaint.id)
                ).all()
            yield from rows
        return
    last_id = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(*INDEXED_COLUMNS)
                .where(Complaint.id > last_id)
                .order_by(Complaint.id)
                .limit(READ_CHUNK)
            ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def _documents_of(rows: list[tuple[Any, ...]]) -> list[SearchDocument]:
    return [document_for(StoredComplaint(*row)) for row in rows]


@contextmanager
def parallel_documents(
    expected: int, workers: int | None = None, *, min_rows: int = PARALLEL_FROM
) -> Iterator[DocumentMaker]:
    """A function from rows to documents that uses ``workers`` processes when the job is large.

    The workers are forked here, before the caller starts any thread of its own (a backend's writer),
    and inherit the tokenizer already loaded in this process; they only compute, never touch a
    database, and are gone when the block ends.
    """
    workers = default_workers() if workers is None else workers
    get_tokenizer()
    with parallel_chunks(_documents_of, workers=workers, parallel=expected >= min_rows) as map_chunks:

        def documents_of(rows: Iterable[Any]) -> Iterator[SearchDocument]:
            chunks = ([tuple(row) for row in chunk] for chunk in chunked(rows, WORK_CHUNK))
            for documents in map_chunks(chunks):
                yield from documents

        yield documents_of
