"""The worker: coalesces pending events into targeted runs, one run at a time, and retries.

Loop: wait until events are pending; wait until the debounce window has passed since the newest
pending event (or the maximum wait since the oldest); take the project's run lock; start one run
covering every business with pending events; mark those events (``seq <= max_seq`` at start) done
only when the run exits 0. A failed run is retried with exponential backoff; the events it
covered stay pending, so they ride along with anything that arrived since. All waiting is driven
by the store, so after a restart pending events resume without any other bookkeeping.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from webhook_relay.metrics import RelayMetrics
from webhook_relay.runlock import RunLock
from webhook_relay.store import EventStore, RunRecord
from webhook_relay.targeting import RunCommand, RunTarget, target_for

log = logging.getLogger("webhook_relay.worker")

_KEEP_RUN_LOGS = 200
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class WorkerSettings:
    debounce_seconds: float = 2.0
    max_wait_seconds: float = 10.0
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    run_timeout_seconds: float = 3600.0
    terminate_grace_seconds: float = 30.0
    # Re-check the store this often even without a notification (events written by another
    # process, clock changes); not a busy loop.
    idle_check_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.debounce_seconds < 0 or self.max_wait_seconds < self.debounce_seconds:
            raise ValueError(
                f"need 0 <= debounce ({self.debounce_seconds}) <= max wait"
                f" ({self.max_wait_seconds}) seconds"
            )
        if self.retry_base_seconds <= 0 or self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("need 0 < retry base <= retry max seconds")

    def backoff(self, consecutive_failures: int) -> float:
        """Seconds to wait before the next attempt after ``consecutive_failures`` failures."""
        exponent = min(consecutive_failures - 1, 30)
        return min(self.retry_base_seconds * 2**exponent, self.retry_max_seconds)


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
    ) -> None:
        self.store = store
        self.command = command
        self.lock = lock
        self.metrics = metrics
        self.settings = settings
        self.run_log_dir = run_log_dir
        self._wakeup = asyncio.Event()
        self._consecutive_failures = 0
        self._retry_not_before = 0.0  # time.monotonic() value

    def notify(self) -> None:
        """A new event was stored: re-evaluate the debounce window."""
        self._wakeup.set()

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    await self._wait_until_ready()
                    await self._run_once()
                except Exception:
                    # e.g. the store's disk is full: keep the relay alive, try again later.
                    log.exception(
                        "worker step failed; retrying in %.0f s", self.settings.retry_base_seconds
                    )
                    await asyncio.sleep(self.settings.retry_base_seconds)
        finally:
            interrupted = self.store.interrupt_unfinished_runs()
            if interrupted:
                log.warning("worker stopped during a run; its events stay pending for next start")

    # -- waiting -----------------------------------------------------------------------------

    async def _wait_until_ready(self) -> None:
        """Return when pending events exist, their debounce window is over and backoff allows."""
        while True:
            # Clear before reading the store: a notification from here on is not lost.
            self._wakeup.clear()
            window = await asyncio.to_thread(self.store.pending_window)
            if window is None:
                await self._sleep(self.settings.idle_check_seconds)
                continue
            oldest, newest = window
            ready_at = min(
                newest + timedelta(seconds=self.settings.debounce_seconds),
                oldest + timedelta(seconds=self.settings.max_wait_seconds),
            )
            delay = min(
                (ready_at - datetime.now(UTC)).total_seconds(), self.settings.max_wait_seconds
            )
            delay = max(delay, self._retry_not_before - time.monotonic())
            if delay <= 0:
                return
            await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when a new event was stored since the clear."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=max(seconds, 0.01))

    # -- running -----------------------------------------------------------------------------

    async def _run_once(self) -> None:
        await self.lock.acquire()
        try:
            # Read the batch under the lock, so events that arrived while waiting ride along.
            target = target_for(await asyncio.to_thread(self.store.pending_events))
            if target is None:
                return
            run = RunRecord(
                run_id=str(uuid.uuid4()),
                business_ids=target.business_ids,
                streams=target.streams,
                max_seq=target.max_seq,
                event_count=target.event_count,
                attempt=self._consecutive_failures + 1,
            )
            await asyncio.to_thread(self.store.start_run, run)
            self.metrics.runs_started.inc()
            log.info(
                "run %s started: %d events, businesses=%s streams=%s attempt=%d",
                run.run_id,
                run.event_count,
                list(run.business_ids),
                list(run.streams),
                run.attempt,
            )
            exit_code = await self._execute(run, target)
        finally:
            self.lock.release()
        loaded = await asyncio.to_thread(self.store.finish_run, run, exit_code)
        if exit_code == 0:
            self._on_success(run, loaded)
        else:
            self._on_failure(run, exit_code)

    def _on_success(self, run: RunRecord, loaded: list[datetime]) -> None:
        self.metrics.runs_succeeded.inc()
        now = datetime.now(UTC)
        for received_at in loaded:
            self.metrics.event_to_load_seconds.observe((now - received_at).total_seconds())
        self._consecutive_failures = 0
        self._retry_not_before = 0.0
        log.info("run %s succeeded: %d events done", run.run_id, len(loaded))

    def _on_failure(self, run: RunRecord, exit_code: int | None) -> None:
        self.metrics.runs_failed.inc()
        self._consecutive_failures += 1
        backoff = self.settings.backoff(self._consecutive_failures)
        self._retry_not_before = time.monotonic() + backoff
        log.error(
            "run %s failed (exit code %s, log %s); events stay pending, retry in %.1f s",
            run.run_id,
            exit_code,
            self._run_log_path(run.run_id),
            backoff,
        )

    def _run_log_path(self, run_id: str) -> Path:
        return self.run_log_dir / f"{run_id}.log"

    async def _execute(self, run: RunRecord, target: RunTarget) -> int | None:
        """Start the run's process and wait for it; None when it could not start or timed out.

        A plain ``Popen`` polled from the loop (not an asyncio subprocess, which kills its child
        when the loop closes): if the relay stops mid-run, the run finishes on its own, still
        holding the inherited run lock, and its events are run again after the restart.
        """
        argv = self.command.argv(run.run_id)
        env = self.command.environ(target, run.run_id, os.environ)
        self.run_log_dir.mkdir(parents=True, exist_ok=True)
        self._prune_run_logs()
        with open(self._run_log_path(run.run_id), "wb") as run_log:
            try:
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
                log.error(
                    "run %s could not start %r in %s: %s",
                    run.run_id,
                    argv[0],
                    self.command.project,
                    exc,
                )
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

    async def _terminate(self, process: subprocess.Popen) -> None:
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

    def _prune_run_logs(self) -> None:
        logs = sorted(self.run_log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
        for old in logs[:-_KEEP_RUN_LOGS]:
            with contextlib.suppress(OSError):
                old.unlink()
