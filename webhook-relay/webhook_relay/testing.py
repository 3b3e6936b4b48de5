"""Start the real relay as a subprocess, for tests and bench scripts of any package.

    with start_webhook_relay(db=..., meltano_project=..., secret="s") as relay:
        ... point the Wave sandbox's --webhook-url at relay.webhook_url ...
        relay.wait_until_idle()          # every stored event done

It runs ``webhook-relay serve`` on a free port, waits for /healthz, and stops it on exit. It does
not sign anything: tests sign with their own, independent code. It builds on the sandboxes' process
helper (``sandbox_support.process``, installed with the repository's sandbox package), so it is
test support only: nothing the relay runs imports this module.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sandbox_support.process import ServerProcess, cli_arguments, free_port

from webhook_relay import defaults
from webhook_relay.config import PREVIOUS_SECRET_ENV, SECRET_ENV
from webhook_relay.schema import EventState

RELAY_BIN = Path(sys.executable).parent / "webhook-relay"
STARTUP_TIMEOUT_SECONDS = 20.0


def _read_table(db: Path, sql: str) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql)]


@dataclass
class RelayProcess:
    """A ``webhook-relay serve`` subprocess on 127.0.0.1 and read-only views of its store.

    Started, waited for and stopped by sandbox_support's ``ServerProcess`` (the sandboxes' own
    helper); what is the relay's own here: its command line and environment (the secret), a
    restart on the same port, ``kill9`` and the views of its store and metrics."""

    db: Path
    meltano_project: Path
    secret: str
    log_path: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    descriptor_limit: int | None = None
    """Run the relay with at most this many open files (soft and hard), e.g. to exhaust them."""
    _server: ServerProcess | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{defaults.HOST}:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhooks/wave"

    def start(self, startup_timeout: float = STARTUP_TIMEOUT_SECONDS) -> RelayProcess:
        """Start the relay; a relay started before (e.g. then ``kill9()``-ed) comes back on the
        same port, so a sender configured with its URL (as Wave is) reaches it again."""
        self.port = self.port or free_port()
        where = {
            "host": defaults.HOST,
            "port": self.port,
            "db": self.db,
            "meltano_project": self.meltano_project,
        }
        command = [str(RELAY_BIN), "serve", *cli_arguments(where), *self.args]
        env = {**os.environ, SECRET_ENV: self.secret, **self.env}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limit_descriptors if self.descriptor_limit is not None else None,
            )
        self._server = ServerProcess(self.url, self.process, self.log_path)
        self._server.name = f"webhook-relay (log {self.log_path})"
        try:
            self._server.wait_healthy(startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _limit_descriptors(self) -> None:
        if self.descriptor_limit is not None:
            limit = (self.descriptor_limit, self.descriptor_limit)
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)

    def kill9(self) -> None:
        """SIGKILL: the crash a 2xx must survive."""
        if self.process is None:
            raise RuntimeError("the relay was never started")
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.stop()  # reaped already: this closes the helper's HTTP client

    def stop(self) -> None:
        """SIGTERM, SIGKILL if the relay has not exited 10 s later; always reaped."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def events(self) -> list[dict[str, Any]]:
        return _read_table(self.db, "SELECT * FROM events ORDER BY seq")

    def runs(self) -> list[dict[str, Any]]:
        return _read_table(self.db, "SELECT * FROM runs ORDER BY started_at")

    def pending(self) -> int:
        return sum(event["state"] == EventState.PENDING for event in self.events())

    def wait_until_idle(self, timeout: float = 60.0, expect_events: int = 0) -> None:
        """Wait until at least ``expect_events`` are stored and none is pending."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            if len(events) >= expect_events and all(e["state"] == EventState.DONE for e in events):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"relay not idle after {timeout} s: {len(events)} stored,"
                    f" {sum(e['state'] == EventState.PENDING for e in events)} pending"
                )
            time.sleep(0.1)

    def metrics(self) -> dict[str, float]:
        """/metrics samples as ``{'name{label="value"}': number}``."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return samples


@contextlib.contextmanager
def start_webhook_relay(
    db: str | Path,
    meltano_project: str | Path,
    secret: str,
    *,
    previous_secret: str | None = None,
    debounce: float = defaults.DEBOUNCE_SECONDS,
    max_wait: float = defaults.MAX_WAIT_SECONDS,
    extra_args: list[str] | tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    log_path: str | Path | None = None,
) -> Iterator[RelayProcess]:
    """Run the relay for the ``with`` block. ``extra_args`` are more ``serve`` flags, e.g.
    ``["--meltano-bin", "/venv/bin/meltano", "--environment", "dev"]``."""
    db = Path(db)
    run_env = dict(env or {})
    if previous_secret:
        run_env[PREVIOUS_SECRET_ENV] = previous_secret
    relay = RelayProcess(
        db=db,
        meltano_project=Path(meltano_project),
        secret=secret,
        log_path=Path(log_path) if log_path else db.parent / "webhook-relay.log",
        args=[*cli_arguments({"debounce": debounce, "max_wait": max_wait}), *extra_args],
        env=run_env,
    )
    try:
        yield relay.start()
    finally:
        relay.stop()
