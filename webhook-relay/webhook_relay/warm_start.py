"""Warm start: the next run's Meltano process, started ahead of time with Meltano imported.

Importing Meltano's CLI takes about a second, and every targeted run paid it before doing anything.
So once a run has ended (and when the worker starts), the relay starts the *next* run's process
right away: ``warm_meltano.py`` in Meltano's own interpreter (from its console script's ``#!``
line), which imports ``meltano.cli`` (and what ``meltano run`` imports next) and then waits on a
private socket. When a run starts, the relay sends it what a plain start would have given it -
the argv, the environment, the run's log file (its stdout and stderr) and the run lock's
descriptor - and it calls Meltano's ``main()`` exactly as the console script does, then exits
with its exit code. Each process serves one run, never two, so nothing is shared between runs;
it is the run's process from then on (its own session: the timeout's ``killpg`` and a relay
crash behave as for a plain start, and it holds the run lock's descriptor until it exits). If the
relay goes away first, the waiting process reads end-of-file and exits.

Only a real Meltano is started this way: ``--meltano-bin`` must be a Python console script of
``meltano.cli`` and the run command the default template; anything else is started as given.
A waiting process that died or whose ``meltano`` script changed since (an upgrade) is discarded
and the run starts plainly. At exit it skips the interpreter's final garbage collection
(``gc.freeze()``): everything is written and flushed by then, and that collection of a process
that imported Meltano costs a few hundred milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

from webhook_relay.runlogs import last_line

log = logging.getLogger("webhook_relay.warm_start")

# What pip and uv write as a console script: a python #! line, imports, the entry point, a guard.
_CONSOLE_SCRIPT = re.compile(
    r"\A#!(?P<python>/\S*python[0-9.]*)[ \t]*\n(?:(?:#.*|import re|import sys)\n)*"
    r"from meltano\.cli import main\nif __name__ == ['\"]__main__['\"]:",
)
_HEADER_BYTES = 16  # warm_meltano.py reads the same

# Run by path in Meltano's interpreter (it may not have this package): waits, then runs one run.
WAITING_PROGRAM = Path(__file__).with_name("warm_meltano.py")


def meltano_interpreter(meltano_bin: str, path: str | None) -> tuple[Path, Path] | None:
    """(the script, its interpreter) when ``meltano_bin`` is Meltano's Python console script."""
    found = shutil.which(meltano_bin, path=path)
    if found is None:
        return None
    script = Path(found).resolve()
    try:
        with script.open("rb") as handle:
            head = handle.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    match = _CONSOLE_SCRIPT.match(head)
    if match is None or not os.access(match["python"], os.X_OK):
        return None
    return Path(found), Path(match["python"])


class WarmStart:
    """At most one waiting Meltano process, for the next run."""

    def __init__(self, script: Path, interpreter: Path, cwd: str, out_path: Path):
        self.script = script
        self.interpreter = interpreter
        self.cwd = cwd
        self.out_path = out_path  # the waiting process's output until a run takes it
        self._waiting: subprocess.Popen[bytes] | None = None
        self._channel: socket.socket | None = None
        self._script_stamp: int | None = None

    def prepare(self, env: Mapping[str, str]) -> None:
        """Start the next run's process unless one is waiting already."""
        if self._waiting is not None and self._waiting.poll() is None:
            return
        self.discard()
        ours, theirs = socket.socketpair()
        self.out_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            out = os.open(self.out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                self._waiting = subprocess.Popen(
                    [
                        str(self.interpreter),
                        str(WAITING_PROGRAM),
                        str(theirs.fileno()),
                        str(self.script.parent),
                    ],
                    cwd=self.cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,
                )
            finally:
                os.close(out)
        except OSError as exc:
            ours.close()
            log.warning("could not start the next run's meltano ahead of time: %s", exc)
            return
        finally:
            theirs.close()
        self._channel = ours
        self._script_stamp = self._stamp()

    def start(
        self, argv: list[str], env: Mapping[str, str], log_fd: int, lock_fd: int | None
    ) -> subprocess.Popen[bytes] | None:
        """Hand the run to the waiting process; None when there is none fit to take it (the
        caller then starts the run plainly)."""
        process, channel = self._waiting, self._channel
        self._waiting = self._channel = None
        if process is None or channel is None:
            return None
        problem = None
        if process.poll() is not None:
            problem = f"it exited {process.returncode}: {self._output_tail()}"
        elif self._stamp() != self._script_stamp:
            problem = f"{self.script} changed since it started"
        if problem is None:
            payload = json.dumps({"argv": argv, "env": dict(env), "cwd": self.cwd}).encode()
            fds = [log_fd] if lock_fd is None else [log_fd, lock_fd]
            try:
                socket.send_fds(channel, [f"{len(payload):<{_HEADER_BYTES}}".encode()], fds)
                channel.sendall(payload)
            except OSError as exc:
                problem = f"it could not be reached: {exc}"
        channel.close()
        if problem is not None:
            log.warning(
                "the meltano started ahead of time was not used (%s); starting the run plainly",
                problem,
            )
            _stop(process)
            return None
        return process

    def discard(self) -> None:
        """Stop the waiting process, if any (relay shutdown)."""
        process, channel = self._waiting, self._channel
        self._waiting = self._channel = None
        if channel is not None:
            channel.close()  # it reads end-of-file and exits
        if process is not None:
            _stop(process)

    def _stamp(self) -> int | None:
        try:
            return self.script.stat().st_mtime_ns
        except OSError:
            return None

    def _output_tail(self) -> str:
        try:
            return last_line(self.out_path.read_text(errors="replace"))
        except OSError:
            return last_line("")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
