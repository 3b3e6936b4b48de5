"""Poison isolation: which pending events the next run covers, and where a failed run's events go.

Fresh events (never in a failed run) are coalesced into one run, as they arrive. When a run fails,
its events leave the fresh pool and are *narrowed* into batches that run on their own:

1. **Blame first.** When the failed run's error lines name some of its events (the tap names the
   entity and business it could not read, the target the key of the record it refused), those
   are split from the rest: the rest runs at once, the named ones after a short backoff.
2. Otherwise a run over several businesses is split by business, and a run over one business
   in two halves (in arrival order).
3. A failed coalesced run is always split (the first split), into batches that later failures
   of fresh runs join (one per business, one for un-named events), so that an outage cannot
   multiply batches. A failed batch is split again only with **evidence** that the failure is in
   its events rather than in the pipeline: some run succeeded after the batch was formed (the
   rest, a sibling half, another business). Without evidence the batch is retried with
   exponential backoff, unsplit: an outage of Wave or of the warehouse narrows and quarantines
   nothing. (A new store, with no loaded event to probe with, splits a batch after its second
   failure even without evidence, but still quarantines nothing without it.)
4. A batch of one event that fails with evidence counts a *solo failure*; after
   ``quarantine_after`` of them (with backoff between them) the event is quarantined: kept, with
   its reason and run log, until an operator re-queues it.

When a failed batch is due again and nothing ran successfully since it was formed (a quiet relay:
no other business's events to prove the pipeline works), the worker first runs a *probe*: the most
recently loaded event again (of another business when there is one; a repeat is harmless, every
write is an upsert). The probe succeeding is the evidence; the probe failing means an outage, and
the batch waits its next backoff without being run.

So the healthy events of a failed run are loaded by the narrowing pass that follows the failure
(the un-named rest and split parts are ready at once, not after a backoff): one more run when the
error names the culprit, about 2*log2(n) runs for n events when it does not, never one run per
event. Everything here is pure: the worker reads the pending events, asks this module, and writes
the answer back in the transaction that records the run's end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta

from webhook_relay.schema import RunKind
from webhook_relay.store import PendingEvent

BUSINESS_BATCH_PREFIX = "business:"
REST_BATCH = "rest"
PART_BATCH_PREFIX = "part:"
_MIN_NAMED_ID = 6  # shorter entity ids could match any word


@dataclass(frozen=True)
class Timing:
    """The worker's waiting rules (seconds), and when an event is quarantined."""

    debounce_seconds: float
    max_wait_seconds: float
    retry_base_seconds: float
    retry_max_seconds: float
    quarantine_after: int

    def backoff(self, failures: int) -> timedelta:
        """Wait before the next attempt after ``failures`` failures: base, 2x base, ... max."""
        exponent = min(max(failures, 1) - 1, 30)
        seconds = min(self.retry_base_seconds * 2**exponent, self.retry_max_seconds)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Unit:
    """What one run covers: the fresh events (``batch`` None) or one narrowed batch."""

    events: tuple[PendingEvent, ...]
    batch: str | None
    ready_at: datetime
    probe_for: Unit | None = None
    """A probe: ``events`` is a loaded event run again before ``probe_for`` (module docstring)."""

    @property
    def kind(self) -> RunKind:
        if self.probe_for is not None:
            return RunKind.PROBE
        if self.batch is None:
            return RunKind.COALESCED
        return RunKind.SINGLE if len(self.events) == 1 else RunKind.NARROWED

    @property
    def seqs(self) -> tuple[int, ...]:
        return tuple(e.seq for e in self.events)

    @property
    def business_ids(self) -> tuple[str, ...]:
        return tuple(sorted({e.business_id for e in self.events}))


@dataclass(frozen=True)
class Placement:
    """Where some events of a failed run (or of a batch split before its run) go next."""

    seqs: tuple[int, ...]
    batch: str
    batch_at: datetime
    batch_failures: int
    retry_at: datetime
    solo_failure: bool = False
    quarantine: bool = False


def _by_business(events: Iterable[PendingEvent]) -> dict[str, list[PendingEvent]]:
    groups: dict[str, list[PendingEvent]] = {}
    for event in sorted(events, key=lambda e: e.seq):
        groups.setdefault(event.business_id, []).append(event)
    return groups


def _first_businesses(events: Sequence[PendingEvent], limit: int) -> list[PendingEvent]:
    """The events of the first ``limit`` businesses (by first arrival): a run's business list
    stays small enough for the environment it is handed in."""
    groups = _by_business(events)
    return sorted((e for b in list(groups)[:limit] for e in groups[b]), key=lambda e: e.seq)


def plan(events: Iterable[PendingEvent], timing: Timing, max_businesses: int) -> list[Unit]:
    """Every unit the pending events form, the one to run first (earliest ready) first."""
    events = list(events)
    units: list[Unit] = []
    fresh = [e for e in events if e.batch is None]
    if fresh:
        oldest = min(e.received_at for e in fresh)
        newest = max(e.received_at for e in fresh)
        ready = min(
            newest + timedelta(seconds=timing.debounce_seconds),
            oldest + timedelta(seconds=timing.max_wait_seconds),
        )
        units.append(Unit(tuple(_first_businesses(fresh, max_businesses)), None, ready))
    batches: dict[str, list[PendingEvent]] = {}
    for event in events:
        if event.batch is not None:
            batches.setdefault(event.batch, []).append(event)
    for batch, members in batches.items():
        members.sort(key=lambda e: e.seq)
        ready = max(m.retry_at or m.batch_at or m.received_at for m in members)
        units.append(Unit(tuple(_first_businesses(members, max_businesses)), batch, ready))
    units.sort(key=lambda u: (u.ready_at, u.events[0].seq))
    return units


def named_events(events: Iterable[PendingEvent], named: set[str]) -> set[int]:
    """The events a failed run's error lines name: by entity or event id, else by business."""
    events = list(events)
    by_id = {
        e.seq
        for e in events
        if e.id in named
        or (e.entity_id and len(e.entity_id) >= _MIN_NAMED_ID and e.entity_id in named)
    }
    return by_id or {e.seq for e in events if e.business_id in named}


def _parts(
    events: Sequence[PendingEvent], named: set[int]
) -> list[tuple[list[PendingEvent], bool]]:
    """How to split failed ``events``: (part, named by the error) pairs; [] for one event."""
    blamed = [e for e in events if e.seq in named]
    if blamed and len(blamed) < len(events):
        return [([e for e in events if e.seq not in named], False), (blamed, True)]
    groups = _by_business(events)
    if len(groups) > 1:
        return [(members, False) for members in groups.values()]
    if len(events) > 1:
        middle = len(events) // 2
        return [(list(events[:middle]), False), (list(events[middle:]), False)]
    return []


def has_evidence(unit: Unit, last_success: datetime | None) -> bool:
    """Did any run succeed after ``unit``'s batch was formed? Then its failure is its own."""
    if unit.batch is None or last_success is None:
        return False
    formed = min(e.batch_at for e in unit.events if e.batch_at is not None)
    return last_success > formed


def _new_part(
    events: Sequence[PendingEvent],
    now: datetime,
    failures: int = 0,
    retry_at: datetime | None = None,
) -> Placement:
    return Placement(
        seqs=tuple(e.seq for e in events),
        batch=f"{PART_BATCH_PREFIX}{uuid.uuid4().hex[:12]}",
        batch_at=now,
        batch_failures=failures,
        retry_at=retry_at or now,
    )


def split_before_run(unit: Unit, last_success: datetime | None, now: datetime) -> list[Placement]:
    """A batch that failed and has evidence now is split at once, without running it again
    (nor waiting for its backoff): the run that just succeeded was its sibling, say."""
    if unit.batch is None or len(unit.events) < 2:
        return []
    if max(e.batch_failures for e in unit.events) < 1 or not has_evidence(unit, last_success):
        return []
    return [_new_part(part, now) for part, _ in _parts(unit.events, set())]


def needs_probe(unit: Unit, last_success: datetime | None) -> bool:
    """``unit`` failed before and no run succeeded since it was formed: outage or poison?"""
    return (
        unit.batch is not None
        and max(e.batch_failures for e in unit.events) >= 1
        and not has_evidence(unit, last_success)
    )


def probe(unit: Unit, loaded: PendingEvent, now: datetime) -> Unit:
    """A run of ``loaded`` (an event already done) before ``unit``."""
    return Unit((loaded,), None, now, probe_for=unit)


def _unsplit_retry(unit: Unit, now: datetime, timing: Timing) -> list[Placement]:
    """The batch stays as it is and waits its next backoff."""
    failures = max(e.batch_failures for e in unit.events) + 1
    return [
        Placement(
            seqs=unit.seqs,
            batch=str(unit.batch),
            batch_at=min(e.batch_at or now for e in unit.events),
            batch_failures=failures,
            retry_at=now + timing.backoff(failures),
        )
    ]


def after_failure(
    unit: Unit,
    pending: Iterable[PendingEvent],
    last_success: datetime | None,
    now: datetime,
    timing: Timing,
    named: AbstractSet[str] = frozenset(),
    can_probe: bool = True,
) -> list[Placement]:
    """Where the events of ``unit``, whose run just failed, go next.

    ``named``: the ids on the failed run's error lines (runlogs.named_ids). ``can_probe``: the
    store holds a loaded event to probe with; when it holds none (a new store) a batch that failed
    twice is split even without evidence, else two bad events in the first run would hold back
    the rest for good. Only a solo failure with evidence counts toward quarantine.
    """
    if unit.probe_for is not None:  # the probe failed too: an outage
        return _unsplit_retry(unit.probe_for, now, timing)
    events = sorted(unit.events, key=lambda e: e.seq)
    blamed = named_events(events, set(named))
    if unit.batch is None:
        return _split_coalesced(events, blamed, pending, now, timing)
    evidence = has_evidence(unit, last_success)
    failed_twice = max(e.batch_failures for e in events) + 1 >= 2
    if not evidence and (can_probe or not failed_twice or len(events) == 1):
        return _unsplit_retry(unit, now, timing)
    parts = _parts(events, blamed)
    if parts:
        later = now + timing.backoff(1)
        return [
            _new_part(part, now, 1, later) if is_named else _new_part(part, now)
            for part, is_named in parts
        ]
    (event,) = events
    solo = event.solo_failures + 1
    return [
        Placement(
            seqs=unit.seqs,
            batch=unit.batch,
            batch_at=min(e.batch_at or now for e in events),
            batch_failures=event.batch_failures + 1,
            retry_at=now + timing.backoff(solo),
            solo_failure=True,
            quarantine=solo >= timing.quarantine_after,
        )
    ]


def _split_coalesced(
    events: list[PendingEvent],
    blamed: set[int],
    pending: Iterable[PendingEvent],
    now: datetime,
    timing: Timing,
) -> list[Placement]:
    """The first split, into batches that later failures of fresh runs join."""
    own = {e.seq for e in events}
    waiting: dict[str, PendingEvent] = {}
    for event in pending:
        if event.seq not in own and event.batch is not None:
            waiting.setdefault(event.batch, event)

    def place(members: Sequence[PendingEvent], batch: str, named: bool) -> Placement:
        joined = waiting.get(batch)
        seqs = tuple(e.seq for e in members)
        if joined is not None:  # keep the waiting batch's timing
            return Placement(
                seqs, batch, joined.batch_at or now, joined.batch_failures, joined.retry_at or now
            )
        if named:  # named by the error: it failed as it is, let the rest go first
            return Placement(seqs, batch, now, 1, now + timing.backoff(1))
        return Placement(seqs, batch, now, 0, now)

    parts = _parts(events, blamed)
    if not parts:  # one event: nothing narrower to try; the same event after a backoff
        return [place(events, f"{BUSINESS_BATCH_PREFIX}{events[0].business_id}", True)]
    if parts[0][0] and not parts[0][1] and parts[-1][1]:  # the error named some events
        rest, named = parts[0][0], parts[-1][0]
        return [place(rest, REST_BATCH, False)] + [
            place(members, f"{BUSINESS_BATCH_PREFIX}{business}", True)
            for business, members in _by_business(named).items()
        ]
    if len(_by_business(events)) == 1:
        business_batch = f"{BUSINESS_BATCH_PREFIX}{events[0].business_id}"
        if business_batch in waiting:
            return [place(events, business_batch, False)]
        return [_new_part(part, now) for part, _ in parts]
    return [
        place(members, f"{BUSINESS_BATCH_PREFIX}{business}", False)
        for business, members in _by_business(events).items()
    ]


def invalid_events(
    events: Iterable[PendingEvent], check: Callable[[PendingEvent], str | None]
) -> dict[int, str]:
    """Pending events a run must never be started for (stored by an older relay), with why."""
    found = {}
    for event in events:
        reason = check(event)
        if reason:
            found[event.seq] = reason
    return found
