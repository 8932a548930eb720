"""The shared backoff rule: doubling from the base, capped, and equal jitter within its half."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from core.backoff import backoff_seconds, with_equal_jitter


def test_doubles_from_the_base_up_to_the_cap() -> None:
    waits = [backoff_seconds(attempt, base=30, cap=3600) for attempt in range(0, 10)]
    assert waits == [30, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_huge_attempt_count_stays_at_the_cap() -> None:
    assert backoff_seconds(10_000, base=0.5, cap=60) == 60


def test_no_base_means_no_wait() -> None:
    assert backoff_seconds(5, base=0, cap=60) == 0


@given(seconds=st.floats(min_value=0, max_value=1e6), seed=st.integers(0, 2**32))
def test_equal_jitter_keeps_at_least_half(seconds: float, seed: int) -> None:
    waited = with_equal_jitter(seconds, random.Random(seed))
    assert seconds / 2 <= waited <= seconds
