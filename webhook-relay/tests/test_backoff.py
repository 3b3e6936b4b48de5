"""The worker's delays in process: debounce and maximum wait, retry backoff, and the wait before
each kind of narrowed batch runs, by calling ``narrowing`` and ``WorkerSettings`` directly.

test_acting.py and test_isolation.py check the same delays through a real relay.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from webhook_relay.narrowing import Placement, Timing, Unit, after_failure, plan
from webhook_relay.store import PendingEvent
from webhook_relay.worker import WorkerSettings

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TIMING = Timing(
    debounce_seconds=2.0,
    max_wait_seconds=10.0,
    retry_base_seconds=2.0,
    retry_max_seconds=300.0,
    quarantine_after=3,
)


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def fresh(seq: int, business: str = "biz-a", at: float = 0.0) -> PendingEvent:
    return PendingEvent(seq, business, "invoice.paid", T0 + seconds(at), id=f"evt_{seq}")


def batched(seq: int, batch: str, failures: int, *, solo: int = 0) -> PendingEvent:
    """An event in a narrowed batch formed at ``T0`` that failed ``failures`` times."""
    return PendingEvent(
        seq, "biz-a", "invoice.paid", T0, id=f"evt_{seq}", entity_id=f"inv-{seq}", batch=batch,
        batch_at=T0, batch_failures=failures, failures=failures, solo_failures=solo,
        retry_at=T0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 2), (1, 2), (2, 4), (3, 8), (4, 16), (8, 256), (9, 300), (10, 300), (10**6, 300)],
)
def test_backoff_doubles_from_the_base_up_to_the_maximum(failures, delay):
    assert TIMING.backoff(failures) == seconds(delay)


def test_worker_settings_give_the_narrowing_their_timing():
    settings = WorkerSettings(
        debounce_seconds=0.5, max_wait_seconds=4, retry_base_seconds=0.25, retry_max_seconds=1,
        quarantine_after=2,
    )  # fmt: skip
    assert settings.timing == Timing(0.5, 4, 0.25, 1, 2)
    assert [settings.timing.backoff(n).total_seconds() for n in range(1, 5)] == [0.25, 0.5, 1, 1]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"debounce_seconds": -1}, "debounce"),
        ({"debounce_seconds": 11, "max_wait_seconds": 10}, "debounce"),
        ({"retry_base_seconds": 0}, "retry base"),
        ({"retry_base_seconds": 5, "retry_max_seconds": 4}, "retry base"),
        ({"quarantine_after": 0}, "quarantine after"),
    ],
)
def test_unusable_delays_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        WorkerSettings(**settings)


def test_fresh_events_run_after_the_debounce_window():
    (unit,) = plan([fresh(1, at=0), fresh(2, at=1.5)], TIMING, max_businesses=200)
    assert unit.batch is None and unit.seqs == (1, 2)
    assert unit.ready_at == T0 + seconds(1.5 + 2)  # 2 s after the newest


def test_a_steady_stream_of_events_waits_no_longer_than_the_maximum():
    events = [fresh(n, at=n * 1.5) for n in range(8)]  # never 2 s without an event
    (unit,) = plan(events, TIMING, max_businesses=200)
    assert unit.ready_at == T0 + seconds(10)  # 10 s after the oldest


def test_a_batch_waits_for_its_latest_retry_time_and_units_come_earliest_first():
    late = [batched(1, "part:late", 1), batched(2, "part:late", 1)]
    late[1] = replace(late[1], retry_at=T0 + seconds(30))
    units = plan([*late, fresh(3, at=5), batched(4, "part:soon", 1)], TIMING, max_businesses=200)
    assert [(u.batch, u.ready_at - T0) for u in units] == [
        ("part:soon", seconds(0)),
        (None, seconds(5 + 2)),
        ("part:late", seconds(30)),
    ]


def test_an_outage_retries_a_batch_unsplit_with_growing_delays():
    """No run succeeded since the batch was formed: no evidence, nothing narrowed."""
    now = T0 + seconds(60)
    for failures, delay in [(1, 4), (2, 8), (3, 16), (9, 300)]:
        unit = Unit((batched(1, "part:x", failures), batched(2, "part:x", failures)), "part:x", now)
        (placement,) = after_failure(unit, unit.events, None, now, TIMING)
        assert placement == Placement(
            seqs=(1, 2), batch="part:x", batch_at=T0, batch_failures=failures + 1,
            retry_at=now + seconds(delay),
        )  # fmt: skip


def test_a_failed_coalesced_run_lets_the_unnamed_rest_go_at_once_and_the_named_wait():
    now = T0 + seconds(20)
    events = (fresh(1), fresh(2), fresh(3))
    unit = Unit(events, None, now)
    rest, named = after_failure(unit, events, None, now, TIMING, named={"evt_2"})
    assert (rest.seqs, rest.retry_at, rest.batch_failures) == ((1, 3), now, 0)
    assert (named.seqs, named.retry_at, named.batch_failures) == ((2,), now + seconds(2), 1)


def test_split_halves_run_at_once():
    """A failed batch with evidence (a run succeeded after it was formed) is halved; both halves
    are ready right away."""
    now = T0 + seconds(60)
    events = tuple(batched(n, "part:x", 1) for n in range(1, 5))
    halves = after_failure(Unit(events, "part:x", now), events, T0 + seconds(30), now, TIMING)
    assert [(p.seqs, p.retry_at, p.batch_failures) for p in halves] == [
        ((1, 2), now, 0),
        ((3, 4), now, 0),
    ]


@pytest.mark.parametrize(
    ("solo", "delay", "quarantined"), [(0, 2, False), (1, 4, False), (2, 8, True)]
)
def test_an_event_failing_alone_backs_off_then_is_quarantined(solo, delay, quarantined):
    now = T0 + seconds(60)
    unit = Unit((batched(1, "part:x", 2, solo=solo),), "part:x", now)
    (placement,) = after_failure(unit, unit.events, T0 + seconds(30), now, TIMING)
    assert placement.solo_failure
    assert placement.retry_at == now + seconds(delay)
    assert placement.quarantine is quarantined
