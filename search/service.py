"""Complaint search as the rest of the application sees it: pick the backend, index, search, check.

The index is derived data: it can always be rebuilt from the database (``reindex_all``), and
``check_consistency`` compares the database with the index itself (not with a bookkeeping table) by
a hash of the indexed fields, so ``repair`` fixes whatever drift there is, whatever caused it.
Indexing happens after the complaint is committed; if the index is unreachable then, the complaint is
kept and the drift is reported by the next check.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from elastic_transport import TransportError
from elasticsearch import ApiError
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.config import Settings, get_settings
from core.db import make_engine
from core.models import Complaint
from core.tokenizer import get_tokenizer, highlight_spans
from search.backends.base import Progress, SearchBackend
from search.backends.elastic import ElasticBackend, make_client
from search.backends.fts5 import Fts5Backend
from search.documents import document_for, indexed_rows, parallel_documents, source_hash
from search.query import BackendHit, BackendResult, SearchDocument, SearchQuery

log = logging.getLogger(__name__)
SIDECAR_FILE = "search-index.sqlite3"


def get_search_backend(settings: Settings, engine: Engine) -> SearchBackend:
    """Elasticsearch when ``search_url`` is set; else FTS5 in the SQLite database (sidecar file on PG)."""
    backend: SearchBackend
    if settings.search_backend == "elasticsearch":
        backend = ElasticBackend(make_client(settings.search_url), settings.search_index)
    elif engine.dialect.name == "sqlite":
        backend = Fts5Backend(engine)
    else:
        sidecar = (settings.data_dir / SIDECAR_FILE).resolve()
        backend = Fts5Backend(make_engine(f"sqlite:///{sidecar}"))
    backend.ensure_index()
    return backend


# --- indexing ------------------------------------------------------------------------------------------


def _backend_for(session: Session, backend: SearchBackend | None) -> SearchBackend:
    if backend is not None:
        return backend
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return get_search_backend(get_settings(), engine)


def index_complaints(session: Session, ids: Iterable[int], backend: SearchBackend | None = None) -> bool:
    """Bring these complaints' index entries up to date; call after the commit that changed them.

    Returns False (and logs) when the index could not be written: the complaints are safe in the
    database and ``fairmarket reindex --check --repair`` brings the index back in line.
    """
    ids = list(ids)
    try:
        backend = _backend_for(session, backend)
        found = [document_for(c) for c in indexed_rows(session, ids)]
        backend.upsert(found)
        gone = set(ids) - {d.id for d in found}
        if gone:
            backend.delete(gone)
    except Exception:
        log.exception(
            "search index not updated for complaints %s; run `fairmarket reindex --check --repair`", ids
        )
        return False
    return True


def reindex_all(
    session: Session,
    backend: SearchBackend,
    progress: Progress | None = None,
    workers: int | None = None,
) -> int:
    """Rebuild the whole index from the database; search keeps answering from the old one meanwhile.

    Complaints changed while the rebuild ran are indexed again after the switch. ``workers``: processes
    that make the entries (default: one per core; 1 keeps everything in this process).
    """
    started = utcnow() - dt.timedelta(seconds=1)
    expected = session.scalar(select(func.count()).select_from(Complaint)) or 0
    with parallel_documents(expected, workers) as documents_of:
        written = backend.rebuild(documents_of(indexed_rows(session)), progress)
    changed = session.scalars(select(Complaint.id).where(Complaint.updated_at >= started)).all()
    if changed:
        backend.upsert(document_for(c) for c in indexed_rows(session, changed))
    return written


@dataclass
class ConsistencyReport:
    checked: int = 0
    indexed: int = 0
    missing: list[int] = field(default_factory=list)  # in the database, not in the index
    stale: list[int] = field(default_factory=list)  # indexed with other field values
    orphaned: list[int] = field(default_factory=list)  # in the index, no longer in the database

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


def _database_hashes(session: Session) -> Iterator[tuple[int, str]]:
    for complaint in indexed_rows(session):
        yield complaint.id, source_hash(complaint)


def check_consistency(session: Session, backend: SearchBackend) -> ConsistencyReport:
    """Walk database and index side by side in id order and list every difference."""
    report = ConsistencyReport()
    database, index = _database_hashes(session), backend.indexed_hashes()
    db_item, index_item = next(database, None), next(index, None)
    while db_item is not None or index_item is not None:
        if index_item is None or (db_item is not None and db_item[0] < index_item[0]):
            assert db_item is not None
            report.checked += 1
            report.missing.append(db_item[0])
            db_item = next(database, None)
        elif db_item is None or index_item[0] < db_item[0]:
            report.indexed += 1
            report.orphaned.append(index_item[0])
            index_item = next(index, None)
        else:
            report.checked += 1
            report.indexed += 1
            if db_item[1] != index_item[1]:
                report.stale.append(db_item[0])
            db_item, index_item = next(database, None), next(index, None)
    return report


def repair(session: Session, backend: SearchBackend, report: ConsistencyReport) -> int:
    """Index what is missing or stale and drop orphans; returns how many entries changed."""
    changed = backend.upsert(document_for(c) for c in indexed_rows(session, report.missing + report.stale))
    if report.orphaned:
        backend.delete(report.orphaned)
    return changed + len(report.orphaned)


# --- searching -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Highlight:
    field: str
    start: int
    end: int


@dataclass
class DisplayHit:
    document: SearchDocument
    score: float | None
    title: str | None
    text: str
    highlights: list[Highlight]


def prepare(query: SearchQuery) -> SearchQuery:
    """The query with its text turned into term groups (the only form backends ever see)."""
    return query.model_copy(update={"term_groups": tuple(get_tokenizer().query_terms(query.q))})


def display_hits(
    session: Session, query: SearchQuery, hits: Sequence[BackendHit], *, unmasked: bool
) -> list[DisplayHit]:
    """Hits as the caller may see them, with highlights computed on exactly the text shown.

    The index holds masked text; the consumer association sees the original, read from the database.
    """
    originals: dict[int, Complaint] = {}
    if unmasked and hits:
        ids = [hit.document.id for hit in hits]
        originals = {c.id: c for c in session.scalars(select(Complaint).where(Complaint.id.in_(ids)))}
    terms = {term for group in query.term_groups for term in group}
    shown = []
    for hit in hits:
        complaint = originals.get(hit.document.id)
        title = complaint.title if complaint else hit.document.title
        text = complaint.text if complaint else hit.document.text
        text_spans = highlight_spans(text, terms) if terms else []
        title_spans = highlight_spans(title, terms) if terms and title else []
        highlights = [Highlight("title", s, e) for s, e in title_spans]
        highlights += [Highlight("text", s, e) for s, e in text_spans]
        shown.append(DisplayHit(hit.document, hit.score, title, text, highlights))
    return shown


class SearchUnavailable(RuntimeError):
    """The search index could not answer (Elasticsearch unreachable, SQLite index locked or missing)."""


@dataclass
class SearchOutcome:
    result: BackendResult
    hits: list[DisplayHit]


def search_complaints(
    session: Session, backend: SearchBackend, query: SearchQuery, *, unmasked: bool
) -> SearchOutcome:
    """Run ``query`` (any ``q`` is fine) and return hits as the caller may see them."""
    query = prepare(query)
    try:
        result = backend.search(query)
    except (ApiError, TransportError, OperationalError) as error:
        log.warning("search backend %s failed", backend.name, exc_info=True)
        raise SearchUnavailable("检索服务暂不可用，请稍后重试") from error
    return SearchOutcome(result, display_hits(session, query, result.hits, unmasked=unmasked))
