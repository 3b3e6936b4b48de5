"""The worker: turns pending events into runs, one at a time, and isolates events that fail.

Loop: read the pending events; quarantine any no run could be started for; let narrowing.py
form the units (the fresh events coalesced, after the debounce window or the maximum wait; each
narrowed batch of a failed run, when its retry time has come); take the project's run lock; run the
first ready unit. A unit's events become ``done`` only when its run exits 0; when it fails,
narrowing.py says where they go (split by business or in halves, retried later, or quarantined),
in the same transaction that records the failure. All state is in the store, so after a restart
the worker resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from webhook_relay import defaults, narrowing
from webhook_relay.catalog_cache import CatalogCache
from webhook_relay.metrics import RelayMetrics
from webhook_relay.narrowing import Timing, Unit
from webhook_relay.runlock import RunLock
from webhook_relay.runlogs import (
    Redactor,
    failure_summary,
    log_tail,
    named_ids,
    open_run_log,
    prune_run_logs,
    run_log_path,
)
from webhook_relay.store import EventStore, RunRecord
from webhook_relay.targeting import RunCommand, RunTarget, target_for
from webhook_relay.validation import stored_event_problem
from webhook_relay.warm_start import WarmStart

log = logging.getLogger("webhook_relay.worker")

_POLL_SECONDS = 0.02  # how soon a run's exit is noticed (a waitpid() each time)
MAX_BUSINESSES_PER_RUN = 200
"""At most 200 ids of at most 200 characters: TAP_WAVE_BUSINESS_IDS stays far below the 128 kB
a single environment variable may hold (a longer one fails the run with E2BIG)."""


@dataclass(frozen=True)
class WorkerSettings:
    debounce_seconds: float = defaults.DEBOUNCE_SECONDS
    max_wait_seconds: float = defaults.MAX_WAIT_SECONDS
    retry_base_seconds: float = defaults.RETRY_BASE_SECONDS
    retry_max_seconds: float = defaults.RETRY_MAX_SECONDS
    run_timeout_seconds: float = defaults.RUN_TIMEOUT_SECONDS
    terminate_grace_seconds: float = defaults.TERMINATE_GRACE_SECONDS
    quarantine_after: int = defaults.QUARANTINE_AFTER
    # Re-read the store this often even without a notification (events re-queued by the CLI,
    # clock changes); one indexed count, not a busy loop.
    idle_check_seconds: float = defaults.IDLE_CHECK_SECONDS

    def __post_init__(self) -> None:
        if self.debounce_seconds < 0 or self.max_wait_seconds < self.debounce_seconds:
            raise ValueError(
                f"need 0 <= debounce ({self.debounce_seconds}) <= max wait"
                f" ({self.max_wait_seconds}) seconds"
            )
        if self.retry_base_seconds <= 0 or self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("need 0 < retry base <= retry max seconds")
        if self.quarantine_after < 1:
            raise ValueError("need quarantine after >= 1 failed run")

    @property
    def timing(self) -> Timing:
        return Timing(
            debounce_seconds=self.debounce_seconds,
            max_wait_seconds=self.max_wait_seconds,
            retry_base_seconds=self.retry_base_seconds,
            retry_max_seconds=self.retry_max_seconds,
            quarantine_after=self.quarantine_after,
        )


class RunWorker:
    """Turns pending events into runs; one instance per relay process (one state id)."""

    def __init__(
        self,
        store: EventStore,
        command: RunCommand,
        lock: RunLock,
        metrics: RelayMetrics,
        settings: WorkerSettings,
        run_log_dir: Path,
        redact: Redactor | None = None,
        warm_start: WarmStart | None = None,
        catalog: CatalogCache | None = None,
    ) -> None:
        self.store = store
        self.command = command
        self.lock = lock
        self.metrics = metrics
        self.settings = settings
        self.timing = settings.timing
        self.run_log_dir = run_log_dir
        self.redact = redact or Redactor(())
        self.warm_start = warm_start  # the next run's meltano, started ahead (warm_start.py)
        self.catalog = catalog  # the tap's catalog, discovered once (catalog_cache.py)
        self._wakeup = asyncio.Event()

    def notify(self) -> None:
        """A new event was stored: re-evaluate the debounce window."""
        self._wakeup.set()

    async def run_forever(self) -> None:
        try:
            self._prepare_next_run()
            while True:
                try:
                    unit = await self._next_unit()
                    await self._run(unit)
                except Exception:
                    # e.g. the store's disk is full: keep the relay alive, try again later.
                    log.exception(
                        "worker step failed; retrying in %.0f s", self.settings.retry_base_seconds
                    )
                    await asyncio.sleep(self.settings.retry_base_seconds)
        finally:
            if self.warm_start is not None:
                self.warm_start.discard()
            interrupted = self.store.interrupt_unfinished_runs()
            if interrupted:
                log.warning("worker stopped during a run; its events stay pending for next start")

    # -- planning ----------------------------------------------------------------------------

    def _plan(self) -> list[Unit]:
        """The units the pending events form now (runs in a thread: it reads the store)."""
        events = self.store.pending_events()
        invalid = narrowing.invalid_events(events, stored_event_problem)
        if invalid:
            self.store.quarantine_invalid(invalid)
            self.metrics.quarantines.inc(len(invalid))
            for seq, reason in invalid.items():
                log.error("event #%d quarantined without a run: %s", seq, reason)
            events = [e for e in events if e.seq not in invalid]
        units = narrowing.plan(events, self.timing, MAX_BUSINESSES_PER_RUN)
        last_success = self.store.last_success()
        now = datetime.now(UTC)
        placements = [p for u in units for p in narrowing.split_before_run(u, last_success, now)]
        if placements:
            self.store.place(placements)
            log.info("narrowed %d failed batch(es) after a successful run", len(placements) // 2)
            units = narrowing.plan(self.store.pending_events(), self.timing, MAX_BUSINESSES_PER_RUN)
        if units and units[0].ready_at <= now and narrowing.needs_probe(units[0], last_success):
            loaded = self.store.probe_event(units[0].business_ids)
            if loaded is not None:
                return [narrowing.probe(units[0], loaded, now), *units[1:]]
        return units

    async def _next_unit(self) -> Unit:
        """Wait for the first ready unit; return it holding the run lock."""
        while True:
            # Clear before reading the store: a notification from here on is not lost.
            self._wakeup.clear()
            units = await asyncio.to_thread(self._plan)
            delay = self.settings.idle_check_seconds
            if units:
                delay = min(delay, (units[0].ready_at - datetime.now(UTC)).total_seconds())
            if delay > 0:
                await self._sleep(delay)
                continue
            await self.lock.acquire()
            # Plan again under the lock: events that arrived while waiting ride along.
            units = await asyncio.to_thread(self._plan)
            if units and units[0].ready_at <= datetime.now(UTC):
                return units[0]
            self.lock.release()

    async def _sleep(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when a new event was stored since the clear."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=max(seconds, 0.01))

    # -- running -----------------------------------------------------------------------------

    async def _run(self, unit: Unit) -> None:
        """Run ``unit`` (the run lock is held on entry and released here)."""
        try:
            target = target_for(unit.events)
            run = RunRecord(
                run_id=str(uuid.uuid4()),
                business_ids=target.business_ids,
                streams=target.streams,
                max_seq=target.max_seq,
                event_count=target.event_count,
                attempt=max(e.failures for e in (unit.probe_for or unit).events) + 1,
                kind=unit.kind,
                seqs=unit.seqs,
            )
            await asyncio.to_thread(self.store.start_run, run)
            self.metrics.runs_started.inc()
            log.info(
                "run %s started (%s): %d events, %d business(es), streams=%s, attempt %d",
                run.run_id, run.kind, run.event_count, len(run.business_ids),
                list(run.streams), run.attempt,
            )  # fmt: skip
            exit_code = await self._execute(run, target)
            if self.catalog is not None and self.catalog.needs_build():
                # still under the lock: the build writes the tap's Meltano run directory too
                try:
                    await self.catalog.build(self.command.common_environ(os.environ))
                except Exception:  # never the run's business: runs discover without it
                    log.exception("building the tap's catalog for the runs failed")
        finally:
            self.lock.release()
        self._prepare_next_run()
        if exit_code == 0:
            loaded = await asyncio.to_thread(self.store.finish_run, run, 0)
            self._on_success(run, loaded)
        else:
            await asyncio.to_thread(self._on_failure, unit, run, exit_code)

    def _prepare_next_run(self) -> None:
        if self.warm_start is None:
            return
        try:
            self.warm_start.prepare(self.command.common_environ(os.environ))
        except Exception:  # e.g. out of descriptors: the next run starts plainly
            log.exception("could not start the next run's meltano ahead of time")

    def _on_success(self, run: RunRecord, loaded: list[datetime]) -> None:
        self.metrics.runs_succeeded.inc()
        now = datetime.now(UTC)
        for received_at in loaded:
            self.metrics.event_to_load_seconds.observe((now - received_at).total_seconds())
        log.info("run %s succeeded: %d events done", run.run_id, len(loaded))

    def _on_failure(self, unit: Unit, run: RunRecord, exit_code: int | None) -> None:
        """Record the failure and where its events go next (runs in a thread)."""
        self.metrics.runs_failed.inc()
        tail = self.redact(log_tail(run_log_path(self.run_log_dir, run.run_id)))
        error = failure_summary(exit_code, tail)
        placements = narrowing.after_failure(
            unit,
            self.store.pending_events(),
            self.store.last_success(),
            datetime.now(UTC),
            self.timing,
            named_ids(tail),
            can_probe=self.store.probe_event(()) is not None,
        )
        self.store.finish_run(run, exit_code, error, placements, tail)
        quarantined = sum(len(p.seqs) for p in placements if p.quarantine)
        split = [p for p in placements if p.batch != unit.batch]
        if unit.probe_for is not None:
            log.error(
                "run %s (a probe: an event loaded before, run again) failed (%s): the"
                " pipeline itself fails; %d failing events wait, none is narrowed",
                run.run_id,
                error,
                len(unit.probe_for.events),
            )
        elif quarantined:
            self.metrics.quarantines.inc(quarantined)
            log.error(
                "run %s failed (%s); event %s quarantined after failing alone %d times"
                " (webhook-relay events --quarantined)",
                run.run_id, error, unit.events[0].id, self.timing.quarantine_after,
            )  # fmt: skip
        elif split:
            log.error(
                "run %s failed (%s); its %d events narrowed into %d batches",
                run.run_id,
                error,
                len(unit.events),
                len(split),
            )
        else:
            wait = max(p.retry_at for p in placements) - datetime.now(UTC)
            log.error(
                "run %s failed (%s); retrying its %d events in %.1f s",
                run.run_id,
                error,
                len(unit.events),
                max(wait.total_seconds(), 0),
            )

    async def _execute(self, run: RunRecord, target: RunTarget) -> int | None:
        """Start the run's process and wait for it; None when it could not start or timed out.

        A plain ``Popen`` polled from the loop (not an asyncio subprocess, which kills its child
        when the loop closes): if the relay stops mid-run, the run finishes on its own, still
        holding the inherited run lock, and its events are run again after the restart.
        """
        argv = self.command.argv(run.run_id)
        catalog = self.catalog.current() if self.catalog is not None else None
        env = self.command.environ(
            target, run.run_id, os.environ, str(catalog) if catalog is not None else None
        )
        self.run_log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        prune_run_logs(self.run_log_dir)
        with open_run_log(self.run_log_dir, run.run_id) as run_log:
            process = None
            if self.warm_start is not None:  # the same run, in a process that imported Meltano
                try:
                    process = self.warm_start.start(argv, env, run_log.fileno(), self.lock.fd)
                except Exception:  # it is started plainly below
                    log.exception("run %s: the meltano started ahead could not take it", run.run_id)
                if process is not None:
                    self.metrics.runs_warm_started.inc()
            if catalog is not None:
                self.metrics.runs_with_cached_catalog.inc()
            try:
                if process is None:
                    process = subprocess.Popen(
                        argv,
                        cwd=self.command.project,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=run_log,
                        stderr=subprocess.STDOUT,
                        pass_fds=(self.lock.fd,) if self.lock.fd is not None else (),
                        start_new_session=True,
                    )
            except OSError as exc:
                message = f"could not start {argv[0]!r} in {self.command.project}: {exc}"
                run_log.write(message.encode() + b"\n")
                log.error("run %s %s", run.run_id, message)
                return None
        deadline = time.monotonic() + self.settings.run_timeout_seconds
        while (exit_code := process.poll()) is None:
            if time.monotonic() > deadline:
                log.error(
                    "run %s exceeded %.0f s; terminating it",
                    run.run_id,
                    self.settings.run_timeout_seconds,
                )
                await self._terminate(process)
                return None
            await asyncio.sleep(_POLL_SECONDS)
        return exit_code

    async def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM the run's process group, then SIGKILL after the grace period."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.terminate_grace_seconds
        while process.poll() is None:
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await asyncio.to_thread(process.wait)
                return
            await asyncio.sleep(_POLL_SECONDS)
