from __future__ import annotations

import pytest

from crawlers.middlewares import BackoffRetryMiddleware


@pytest.mark.parametrize(("retry_times", "seconds"), [(0, 0.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0)])
def test_retries_back_off_exponentially_up_to_a_cap(retry_times: int, seconds: float) -> None:
    assert BackoffRetryMiddleware(base=2.0, maximum=60.0).backoff_seconds(retry_times) == seconds


def test_no_base_means_no_wait() -> None:
    assert BackoffRetryMiddleware(base=0.0, maximum=60.0).backoff_seconds(3) == 0.0
