"""The run lock: an exclusive ``flock`` on ``<meltano project>/.meltano/run.lock``.

Every runner that writes Meltano state or the warehouse for the project takes it around a run:
the relay for each targeted run, and the daily job (``flock <project>/.meltano/run.lock meltano
run ...``, or ``webhook-relay locked-run``). The lock's file descriptor is inherited by the run's
process, so if the relay dies mid-run the lock stays held until that run ends too.

The file is 0600 (and an existing one is tightened): flock needs only a descriptor open for
reading, so a file other local users can read is a lock they can take, stalling every run. A wait
longer than a minute is logged, and again every ten minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path

LOCK_RELATIVE_PATH = Path(".meltano") / "run.lock"
LOCK_FILE_MODE = 0o600
_WAIT_REPORT_SECONDS = (60.0, 600.0)  # first report, then every

log = logging.getLogger("webhook_relay.runlock")


def lock_path(meltano_project: str | Path) -> Path:
    return Path(meltano_project) / LOCK_RELATIVE_PATH


class RunLock:
    """An exclusive, process-wide lock on the project's run.lock file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.fd: int | None = None

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, LOCK_FILE_MODE)
        with contextlib.suppress(PermissionError):  # not ours: leave it to its owner
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, LOCK_FILE_MODE)
        return fd

    def try_acquire(self) -> bool:
        """Take the lock if free; True when this object now holds it."""
        if self.fd is not None:
            return True
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def acquire_blocking(self) -> int:
        """Wait for the lock (for the ``locked-run`` command); return the descriptor holding it."""
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.fd = fd
        return fd

    async def acquire(self, poll_seconds: float = 0.25) -> None:
        """Wait for the lock without blocking the event loop."""
        started = time.monotonic()
        report_at = _WAIT_REPORT_SECONDS[0]
        while not self.try_acquire():
            waited = time.monotonic() - started
            if waited >= report_at:
                log.warning(
                    "waiting %.0f s for the run lock %s: another runner of the project"
                    " holds it (the daily job, or a run left by a stopped relay)",
                    waited,
                    self.path,
                )
                report_at += _WAIT_REPORT_SECONDS[1]
            await asyncio.sleep(poll_seconds)

    def release(self) -> None:
        """Close our descriptor. The lock is freed once no process holds the file open, so a
        run still going after the relay let go (relay shutdown) keeps it until it ends."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
