"""Pure-Python CPU work (jieba) spread over forked worker processes, results kept in input order.

jieba holds the GIL, so threads do not help; forked workers inherit whatever the parent loaded (a
dictionary, a trained classifier) without pickling it. Work goes out in chunks, at most two per worker
in flight, so memory stays bounded however long the input stream is.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import AsyncResult, Pool
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")
ChunkMapper = Callable[[Iterable[list[In]]], Iterator[list[Out]]]


def default_workers() -> int:
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _in_order(
    pool: Pool, function: Callable[[list[In]], list[Out]], chunks: Iterable[list[In]], workers: int
) -> Iterator[list[Out]]:
    pending: deque[AsyncResult[list[Out]]] = deque()
    for chunk in chunks:
        pending.append(pool.apply_async(function, (chunk,)))
        if len(pending) >= 2 * workers:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


@contextmanager
def parallel_chunks(
    function: Callable[[list[In]], list[Out]], *, workers: int, parallel: bool = True
) -> Iterator[ChunkMapper[In, Out]]:
    """A map of ``function`` over chunks, in ``workers`` forked processes when ``parallel``.

    ``function`` must be a module-level function (it is pickled by name). Fork before starting any
    thread of your own; the workers only compute and are gone when the block ends.
    """
    if not parallel or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield lambda chunks: map(function, chunks)
        return
    # What is loaded by now (modules, jieba's dictionary, a fitted classifier) outlives the block: frozen,
    # the garbage collector of this process and of the workers leaves it alone (a full collection walked
    # its quarter of a million objects again and again, and a worker walking them copies their pages).
    gc.freeze()
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield lambda chunks: _in_order(pool, function, chunks, workers)
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()
