"""The batch loop every importer shares: read rows, reject the unreadable ones, store the rest in batches.

A commit after each batch keeps a large file from holding one long transaction, and a crash loses at most
the batch in flight (a re-run adds nothing twice: each importer stores idempotently).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy.orm import Session

from importing.fields import FieldError, ImportSummary
from importing.readers import BadRow, Row

Prepared = TypeVar("Prepared")


def feed_batches(
    session: Session,
    rows: Iterable[Row | BadRow],
    *,
    prepare: Callable[[Row], Prepared],
    store: Callable[[list[Prepared], ImportSummary], None],
    batch_size: int,
    on_reject: Callable[[Row, FieldError, ImportSummary], None] | None = None,
    on_batch: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import ``rows``: ``prepare`` turns a row into what ``store`` writes, or raises :class:`FieldError`.

    ``store`` counts what it imported or skipped in the summary; ``on_reject`` may record a rejected row
    (committed with the next batch) and count it; ``on_batch`` sees the summary after every commit.
    """
    summary = ImportSummary()
    batch: list[Prepared] = []

    def flush() -> None:
        store(batch, summary)
        session.commit()
        batch.clear()
        if on_batch is not None:
            on_batch(summary)

    for row in rows:
        summary.read += 1
        if isinstance(row, BadRow):
            summary.reject(row.line, row.reason)
            continue
        try:
            batch.append(prepare(row))
        except FieldError as exc:
            summary.reject(row.line, str(exc))
            if on_reject is not None:
                on_reject(row, exc, summary)
        if len(batch) >= batch_size:
            flush()
    flush()
    return summary
