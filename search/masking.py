"""The complaint index follows the masking rules by itself: the first start after they change re-masks it.

The index holds masked text only, and what trade associations and the public read of a search hit is
that text. Every document's source hash includes ``complaints.privacy.MASKING_VERSION``, so documents
written under older rules are stale to ``check_consistency``; ``search_index_masking`` records the version
the index was last brought in line with, so a start under the same rules costs one read. ``fairmarket db
upgrade``, each API worker's start (``serve``, ``demo``) and the scheduler's start call
``remask_stale_index``: processes starting together take a lock, and the later ones find the work done.
Search waits for it rather than serving documents whose personal data older rules let through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from complaints.privacy import MASKING_VERSION
from core.clock import utcnow
from core.config import Settings
from core.db import advisory_xact_lock, session_factory, sqlite_file_lock
from core.models import SearchIndexMasking
from search.service import check_consistency, get_search_backend, repair

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every process of one deployment.
REMASK_LOCK_ID = 0x6661_6972_6D73


@dataclass(frozen=True)
class RemaskOutcome:
    previous: int | None  # the version recorded before (None: never recorded)
    current: int
    stale: int  # documents written under other rules (or other field values)
    changed: int  # documents rewritten, added or dropped


def recorded_masking_version(session: Session, backend: str) -> int | None:
    return session.scalar(
        select(SearchIndexMasking.masking_version).where(SearchIndexMasking.backend == backend)
    )


def record_masking_version(session: Session, backend: str) -> None:
    """Say the index of ``backend`` follows the current rules (after a rebuild or a repair); commits."""
    state = session.get(SearchIndexMasking, backend)
    if state is None:
        session.add(SearchIndexMasking(backend=backend, masking_version=MASKING_VERSION, updated_at=utcnow()))
    else:
        state.masking_version = MASKING_VERSION
        state.updated_at = utcnow()
    session.commit()


@contextmanager
def _one_process_at_a_time(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        with sqlite_file_lock(engine.url, "remask"):
            yield
        return
    with engine.connect() as connection, connection.begin():
        advisory_xact_lock(connection, REMASK_LOCK_ID)
        yield


def remask_stale_index(settings: Settings, engine: Engine) -> RemaskOutcome | None:
    """Rewrite every index document the current masking rules would write otherwise; None when the
    recorded version is already current. Raises what the search backend raises (it stays unrecorded)."""
    name = settings.search_backend
    sessions = session_factory(engine)
    with sessions() as session:
        if recorded_masking_version(session, name) == MASKING_VERSION:
            return None
    with _one_process_at_a_time(engine), sessions() as session:
        previous = recorded_masking_version(session, name)
        if previous == MASKING_VERSION:
            return None
        backend = get_search_backend(settings, engine)
        try:
            report = check_consistency(session, backend)
            changed = repair(session, backend, report)
        finally:
            backend.close()
        record_masking_version(session, name)
        return RemaskOutcome(previous, MASKING_VERSION, len(report.stale), changed)


def remask_at_start(settings: Settings, engine: Engine) -> None:
    """``remask_stale_index`` for a process starting (an API worker, the scheduler): a search backend
    that cannot answer now is logged, not fatal; the next start tries again."""
    try:
        remasked = remask_stale_index(settings, engine)
    except Exception:
        log.exception("search index not re-masked; run `fairmarket reindex --check --repair`")
        return
    if remasked is not None:
        log.info(
            "search index re-masked to masking version %s: %s documents", remasked.current, remasked.changed
        )
