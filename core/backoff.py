"""The one backoff rule for everything that retries: crawler requests and alert deliveries."""

from __future__ import annotations

import random

# 2**62 times any sensible base is far past every cap; the bound keeps float conversion from overflowing.
_MAX_DOUBLINGS = 62


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """``base · 2^(attempt−1)``, at most ``cap``: the first retry waits ``base``, each next one twice that."""
    if base <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(max(attempt - 1, 0), _MAX_DOUBLINGS)))


def with_equal_jitter(seconds: float, rng: random.Random) -> float:
    """Half of ``seconds`` fixed, half drawn: many failures at once do not all come back at once."""
    return seconds / 2 + rng.uniform(0, seconds / 2)
