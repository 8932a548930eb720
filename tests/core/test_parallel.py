"""Chunks mapped over forked workers: results in input order, long-lived objects frozen meanwhile."""

from __future__ import annotations

import gc
import os

from core.parallel import parallel_chunks


def _pid_and_squares(chunk: list[int]) -> list[tuple[int, int]]:
    return [(os.getpid(), n * n) for n in chunk]


def _frozen_in_worker(chunk: list[int]) -> list[int]:
    return [gc.get_freeze_count() for _ in chunk]


def test_chunks_come_back_in_order_from_the_workers() -> None:
    chunks = [list(range(start, start + 7)) for start in range(0, 70, 7)]
    with parallel_chunks(_pid_and_squares, workers=2) as map_chunks:
        results = list(map_chunks(iter(chunks)))
    assert [square for chunk in results for _, square in chunk] == [n * n for n in range(70)]
    assert os.getpid() not in {pid for chunk in results for pid, _ in chunk}


def test_what_was_loaded_before_the_fork_is_left_to_no_collector_until_the_workers_end() -> None:
    """A full collection would walk everything loaded (jieba's dictionary, the modules) again and again,
    and a worker walking it copies its pages; frozen, neither happens. Afterwards it is unfrozen."""
    before = gc.get_freeze_count()
    with parallel_chunks(_frozen_in_worker, workers=2) as map_chunks:
        assert gc.get_freeze_count() > before
        in_workers = [count for chunk in map_chunks(iter([[1, 2], [3]])) for count in chunk]
    assert all(count > before for count in in_workers)
    assert gc.get_freeze_count() == before
