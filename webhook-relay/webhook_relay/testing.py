"""Start the real relay as a subprocess, for tests and bench scripts of any package.

    with start_webhook_relay(db=..., meltano_project=..., secret="s") as relay:
        ... point the Wave sandbox's --webhook-url at relay.webhook_url ...
        relay.wait_until_idle()          # every stored event done

It runs ``webhook-relay serve`` on a free port, waits for /healthz, and stops it on exit. It does
not sign anything: tests sign with their own, independent code.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

RELAY_BIN = Path(sys.executable).parent / "webhook-relay"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_table(db: Path, sql: str) -> list[dict]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql)]


@dataclass
class RelayProcess:
    """A ``webhook-relay serve`` subprocess on 127.0.0.1 and read-only views of its store."""

    db: Path
    meltano_project: Path
    secret: str
    log_path: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    descriptor_limit: int | None = None
    """Run the relay with at most this many open files (soft and hard), e.g. to exhaust them."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhooks/wave"

    def start(self, startup_timeout: float = 20.0) -> RelayProcess:
        """Start the relay; a relay started before (e.g. then ``kill9()``-ed) comes back on the
        same port, so a sender configured with its URL (as Wave is) reaches it again."""
        self.port = self.port or free_port()
        command = [
            str(RELAY_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--db", str(self.db), "--meltano-project", str(self.meltano_project), *self.args,
        ]  # fmt: skip
        env = {**os.environ, "WAVE_WEBHOOK_SECRET": self.secret, **self.env}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limit_descriptors if self.descriptor_limit is not None else None,
            )
        deadline = time.monotonic() + startup_timeout
        while not self._healthy():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"relay did not answer /healthz in {startup_timeout} s")
            time.sleep(0.1)
        return self

    def _limit_descriptors(self) -> None:
        limit = (self.descriptor_limit, self.descriptor_limit)
        resource.setrlimit(resource.RLIMIT_NOFILE, limit)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"relay exited with code {self.process.returncode}; log {self.log_path}:\n"
                + self.log()
            )
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def kill9(self) -> None:
        """SIGKILL: the crash a 2xx must survive."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def events(self) -> list[dict]:
        return _read_table(self.db, "SELECT * FROM events ORDER BY seq")

    def runs(self) -> list[dict]:
        return _read_table(self.db, "SELECT * FROM runs ORDER BY started_at")

    def pending(self) -> int:
        return sum(event["state"] == "pending" for event in self.events())

    def wait_until_idle(self, timeout: float = 60.0, expect_events: int = 0) -> None:
        """Wait until at least ``expect_events`` are stored and none is pending."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            if len(events) >= expect_events and all(e["state"] == "done" for e in events):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"relay not idle after {timeout} s: {len(events)} stored,"
                    f" {sum(e['state'] == 'pending' for e in events)} pending"
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
    debounce: float = 2.0,
    max_wait: float = 10.0,
    extra_args: list[str] | tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    log_path: str | Path | None = None,
) -> Iterator[RelayProcess]:
    """Run the relay for the ``with`` block. ``extra_args`` are more ``serve`` flags, e.g.
    ``["--meltano-bin", "/venv/bin/meltano", "--environment", "dev"]``."""
    db = Path(db)
    run_env = dict(env or {})
    if previous_secret:
        run_env["WAVE_WEBHOOK_SECRET_PREVIOUS"] = previous_secret
    relay = RelayProcess(
        db=db,
        meltano_project=Path(meltano_project),
        secret=secret,
        log_path=Path(log_path) if log_path else db.parent / "webhook-relay.log",
        args=["--debounce", str(debounce), "--max-wait", str(max_wait), *extra_args],
        env=run_env,
    )
    try:
        yield relay.start()
    finally:
        relay.stop()
