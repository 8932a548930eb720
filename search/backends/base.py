"""What a search backend does; the service talks to backends only through this."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from itertools import islice
from typing import Protocol, TypeVar

from search.query import BackendResult, SearchDocument, SearchQuery

EPOCH = dt.datetime(1970, 1, 1)
Progress = Callable[[int], None]
T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items: bounded memory over any stream."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def to_millis(moment: dt.datetime) -> int:
    """Naive UTC datetime → epoch milliseconds, the one timestamp both backends sort and filter on."""
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def from_millis(millis: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=millis)


class SearchBackend(Protocol):
    name: str

    def ensure_index(self) -> None:
        """Create the index if there is none yet (idempotent)."""

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace documents; returns how many were written."""

    def delete(self, ids: Iterable[int]) -> None: ...

    def bulk_writes(self) -> AbstractContextManager[None]:
        """Many upserts in a row (an import): searches may see them only when the block ends."""

    def search(self, query: SearchQuery) -> BackendResult: ...

    def indexed_hashes(self) -> Iterator[tuple[int, str]]:
        """Every ``(complaint id, source hash)`` in the live index, by id."""

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        """Build a fresh index from ``documents`` and switch to it atomically; search stays up."""

    def close(self) -> None: ...
