"""Writing FTS5 index entries: one chunk in a transaction, or many on a writer thread during a rebuild."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, Engine

from search.backends.base import Progress
from search.backends.fts5_sql import upsert_statements
from search.query import SearchDocument


def write_documents(conn: Connection, documents: Sequence[SearchDocument], suffix: str = "") -> None:
    """Replace the documents' entries (in ``search_docs{suffix}`` and ``search_fts{suffix}``)."""
    for statement, rows in upsert_statements(documents, suffix):
        conn.exec_driver_sql(statement, rows)


def write_behind(
    engine: Engine, chunks: Iterator[list[SearchDocument]], suffix: str, progress: Progress | None
) -> int:
    """Write each chunk on a second thread while the next one is made (SQLite leaves the GIL).

    At most two chunks wait in the queue, so memory stays bounded whatever the index size; the first
    failure stops the writing and is raised here.
    """
    pending: queue.Queue[list[SearchDocument] | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []
    written = 0

    def writer() -> None:
        nonlocal written
        while (chunk := pending.get()) is not None:
            if failure:
                continue
            try:
                with engine.begin() as conn:
                    write_documents(conn, chunk, suffix)
                written += len(chunk)
                if progress is not None:
                    progress(written)
            except BaseException as error:
                failure.append(error)

    thread = threading.Thread(target=writer, name="fts5-rebuild-writer")
    thread.start()
    try:
        for chunk in chunks:
            if failure:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return written
