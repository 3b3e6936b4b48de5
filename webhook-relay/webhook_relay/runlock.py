"""The run lock: an exclusive ``flock`` on ``<meltano project>/.meltano/run.lock``.

Every runner that writes Meltano state or the warehouse for the project takes it around a run:
the relay for each targeted run, and the daily job (``flock <project>/.meltano/run.lock meltano
run ...``, or ``webhook-relay locked-run``). The lock's file descriptor is inherited by the run's
process, so if the relay dies mid-run the lock stays held until that run ends too.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

LOCK_RELATIVE_PATH = Path(".meltano") / "run.lock"


def lock_path(meltano_project: str | Path) -> Path:
    return Path(meltano_project) / LOCK_RELATIVE_PATH


class RunLock:
    """An exclusive, process-wide lock on the project's run.lock file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if free; True when this object now holds it."""
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def acquire_blocking(self) -> None:
        """Wait for the lock (for the ``locked-run`` command)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.fd = fd

    async def acquire(self, poll_seconds: float = 0.25) -> None:
        """Wait for the lock without blocking the event loop."""
        while not self.try_acquire():
            await asyncio.sleep(poll_seconds)

    def release(self) -> None:
        """Close our descriptor. The lock is freed once no process holds the file open, so a
        run still going after the relay let go (relay shutdown) keeps it until it ends."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
