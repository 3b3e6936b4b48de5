"""Poison isolation: which pending events the next run covers, and where a failed run's events go.

Fresh events (never in a failed run) are coalesced into one run, as they arrive. When a run fails,
its events leave the fresh pool and are *narrowed* into batches that run on their own:

1. a failed coalesced run is split by business (one batch per business; a business that already
   has a business batch waiting joins it, so an outage cannot multiply batches), and a
   single-business one into two halves;
2. a failed batch is split in two halves (in arrival order) once there is **evidence** that the
   failure is in its events rather than in the pipeline: some run succeeded after the batch was
   formed (a sibling half, another business, new events). Without evidence the batch is run again
   after the batches formed with it (the first time) and then with exponential backoff, without
   narrowing - an outage of Wave or of the warehouse narrows nothing and quarantines nothing;
3. a batch of one event that fails with evidence counts a *solo failure*; after
   ``quarantine_after`` of them (with backoff between them) the event is quarantined: kept, with
   its reason and run log, until an operator re-queues it.

When a failed batch is due again and nothing else ran successfully since it was formed (a quiet
relay: no other business's events to prove the pipeline works), the worker first runs a *probe*:
the most recently loaded event again (of another business when there is one; a repeat is
harmless, every write is an upsert). The probe succeeding is the evidence; the probe failing
means an outage, and the batch waits its next backoff without being run.

So healthy events of a failed run are loaded by the narrowing pass that follows the failure
(splits are ready at once, not after a backoff), while the failing event ends up alone. Splitting a
business in halves costs about two runs per halving: about 2*log2(n) runs for n events of the
business, instead of n runs one by one.

Everything here is pure: the worker reads pending events from the store, asks this module, and
writes the answer back in the same transaction that records the run's end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from webhook_relay.store import PendingEvent

BUSINESS_BATCH_PREFIX = "business:"
PART_BATCH_PREFIX = "part:"

COALESCED, NARROWED, SINGLE, PROBE = "coalesced", "narrowed", "single", "probe"


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
    def kind(self) -> str:
        if self.probe_for is not None:
            return PROBE
        if self.batch is None:
            return COALESCED
        return SINGLE if len(self.events) == 1 else NARROWED

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
    kept = list(groups)[:limit]
    return sorted((e for b in kept for e in groups[b]), key=lambda e: e.seq)


def plan(events: Iterable[PendingEvent], timing: Timing, max_businesses: int) -> list[Unit]:
    """Every unit the pending events form, the one to run first (earliest ready) first."""
    events = list(events)
    units: list[Unit] = []
    fresh = [e for e in events if e.batch is None]
    if fresh:
        oldest = min(e.received_at for e in fresh)
        newest = max(e.received_at for e in fresh)
        ready = min(newest + timedelta(seconds=timing.debounce_seconds),
                    oldest + timedelta(seconds=timing.max_wait_seconds))
        units.append(Unit(tuple(_first_businesses(fresh, max_businesses)), None, ready))
    batches: dict[str, list[PendingEvent]] = {}
    for event in events:
        if event.batch is not None:
            batches.setdefault(event.batch, []).append(event)
    for batch, members in batches.items():
        members.sort(key=lambda e: e.seq)
        ready = max(m.retry_at or m.batch_at or m.received_at for m in members)
        units.append(Unit(tuple(members), batch, ready))
    units.sort(key=lambda u: (u.ready_at, u.events[0].seq))
    return units


def _halves(events: Sequence[PendingEvent]) -> list[tuple[PendingEvent, ...]]:
    middle = len(events) // 2
    return [tuple(events[:middle]), tuple(events[middle:])]


def _new_part(events: Sequence[PendingEvent], now: datetime) -> Placement:
    return Placement(seqs=tuple(e.seq for e in events),
                     batch=f"{PART_BATCH_PREFIX}{uuid.uuid4().hex[:12]}",
                     batch_at=now, batch_failures=0, retry_at=now)


def has_evidence(unit: Unit, last_success: datetime | None) -> bool:
    """Did any run succeed after ``unit``'s batch was formed? Then its failure is its own."""
    if unit.batch is None or last_success is None:
        return False
    formed = min(e.batch_at for e in unit.events if e.batch_at is not None)
    return last_success > formed


def split_before_run(unit: Unit, last_success: datetime | None,
                     now: datetime) -> list[Placement]:
    """A batch that failed and has evidence now is split at once, without running it again
    (nor waiting for its backoff): the run that just succeeded was its sibling, say."""
    failed = max(e.batch_failures for e in unit.events) if unit.events else 0
    if unit.batch is None or len(unit.events) < 2 or failed < 1:
        return []
    if not has_evidence(unit, last_success):
        return []
    return [_new_part(part, now) for part in _halves(unit.events)]


def needs_probe(unit: Unit, last_success: datetime | None) -> bool:
    """``unit`` failed before and no run succeeded since it was formed: outage or poison?"""
    return (unit.batch is not None and max(e.batch_failures for e in unit.events) >= 1
            and not has_evidence(unit, last_success))


def probe(unit: Unit, loaded: PendingEvent, now: datetime) -> Unit:
    """A run of ``loaded`` (an event already done) before ``unit``."""
    return Unit((loaded,), None, now, probe_for=unit)


def after_failed_probe(probe_run: Unit, now: datetime, timing: Timing) -> list[Placement]:
    """The probe failed too: an outage. The batch it was for waits its next backoff."""
    waiting = probe_run.probe_for
    assert waiting is not None and waiting.batch is not None
    batch_failures = max(e.batch_failures for e in waiting.events) + 1
    return [Placement(seqs=waiting.seqs, batch=waiting.batch,
                      batch_at=min(e.batch_at or now for e in waiting.events),
                      batch_failures=batch_failures, retry_at=now + timing.backoff(batch_failures))]


def after_failure(unit: Unit, pending: Iterable[PendingEvent], last_success: datetime | None,
                  now: datetime, timing: Timing) -> list[Placement]:
    """Where the events of ``unit``, whose run just failed, go next."""
    if unit.probe_for is not None:
        return after_failed_probe(unit, now, timing)
    events = sorted(unit.events, key=lambda e: e.seq)
    if unit.batch is None:
        return _split_coalesced(events, pending, now, timing)
    batch_failures = max(e.batch_failures for e in events) + 1
    seqs = tuple(e.seq for e in events)
    batch_at = min(e.batch_at or now for e in events)
    if has_evidence(unit, last_success):
        if len(events) > 1:
            return [_new_part(part, now) for part in _halves(events)]
        (event,) = events
        solo = event.solo_failures + 1
        return [Placement(seqs=seqs, batch=unit.batch, batch_at=batch_at,
                          batch_failures=batch_failures, retry_at=now + timing.backoff(solo),
                          solo_failure=True, quarantine=solo >= timing.quarantine_after)]
    # No run succeeded since this batch was formed: maybe an outage. Back off; if another run
    # succeeds meanwhile (a sibling half, another business), split_before_run narrows it at once.
    return [Placement(seqs=seqs, batch=unit.batch, batch_at=batch_at,
                      batch_failures=batch_failures, retry_at=now + timing.backoff(batch_failures))]


def _split_coalesced(events: list[PendingEvent], pending: Iterable[PendingEvent],
                     now: datetime, timing: Timing) -> list[Placement]:
    groups = _by_business(events)
    waiting = _waiting_business_batches(pending, {e.seq for e in events})
    if len(groups) == 1 and len(events) > 1 and f"{BUSINESS_BATCH_PREFIX}{events[0].business_id}" \
            not in waiting:
        return [_new_part(part, now) for part in _halves(events)]
    placements = []
    for business_id, members in groups.items():
        batch = f"{BUSINESS_BATCH_PREFIX}{business_id}"
        seqs = tuple(e.seq for e in members)
        joined = waiting.get(batch)
        if joined is not None:  # the business already has a batch waiting: join it, as it is
            placements.append(Placement(seqs, batch, joined.batch_at or now,
                                        joined.batch_failures, joined.retry_at or now))
        elif len(events) == 1:  # nothing narrower to try: the same event again, after a backoff
            placements.append(Placement(seqs, batch, now, 1, now + timing.backoff(1)))
        else:
            placements.append(Placement(seqs, batch, now, 0, now))
    return placements


def _waiting_business_batches(pending: Iterable[PendingEvent],
                              excluded: set[int]) -> dict[str, PendingEvent]:
    """One member of each business batch that has pending events outside ``excluded``."""
    found: dict[str, PendingEvent] = {}
    for event in pending:
        if (event.seq not in excluded and event.batch
                and event.batch.startswith(BUSINESS_BATCH_PREFIX)):
            found.setdefault(event.batch, event)
    return found


def invalid_events(events: Iterable[PendingEvent],
                   check: Callable[[PendingEvent], str | None]) -> dict[int, str]:
    """Pending events a run must never be started for (stored by an older relay), with why."""
    found = {}
    for event in events:
        reason = check(event)
        if reason:
            found[event.seq] = reason
    return found
