"""The limiter spaces requests; retries back off exponentially with jitter, or as Wave says."""

from __future__ import annotations

import itertools

import pytest
from tap_wave.pacing import RequestLimiter, RetryPolicy, parse_retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_request_starts_are_spaced_by_the_rate():
    time = FakeClock()
    limiter = RequestLimiter(120, clock=time.clock, sleep=time.sleep)
    starts = []
    for _ in range(4):
        with limiter:
            starts.append(time.now)
            time.now += 0.1  # the request itself
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [0.5] * 3


def test_no_wait_when_requests_are_slower_than_the_rate():
    time = FakeClock()
    limiter = RequestLimiter(60, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        with limiter:
            time.now += 2.0
    assert time.slept == []


def test_a_non_positive_rate_is_refused():
    with pytest.raises(ValueError, match="requests_per_minute must be positive"):
        RequestLimiter(0)


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_wait=10.0)
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        waits = {policy.delay(retry) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1, "jitter spreads the retries"


def test_retry_after_wins_but_is_capped():
    policy = RetryPolicy(max_wait=30.0)
    assert policy.delay(1, retry_after=7) == 7
    assert policy.delay(1, retry_after=3600) == 30.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.5", 0.5), (None, None), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds
