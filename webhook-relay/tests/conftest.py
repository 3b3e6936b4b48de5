"""Test helpers: an independent webhook signer, the real relay as a subprocess, a recording run.

The signer is written here from the contract (hmac + hashlib), deliberately not importing
``webhook_relay.signature``. The "run" the relay starts is a small real program
(``record_run.py``) that appends what it was given (argv, env, cwd, the pending events it
answers for, whether the run lock is held) to a JSON-lines file and exits as told.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

SECRET = "whsec-current-7f3a"
PREVIOUS_SECRET = "whsec-previous-19c2"
RELAY_BIN = Path(sys.executable).parent / "webhook-relay"
RECORDER = Path(__file__).parent / "record_run.py"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """An ``x-wave-signature`` value for ``body``, computed from the contract's definition."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}".encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_body(
    business_id: str = "biz-1",
    event_type: str = "invoice.updated",
    event_id: str | None = None,
    entity_id: str = "inv-1",
    **extra: object,
) -> bytes:
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "createdAt": "2026-11-28T12:00:00.000Z",
        "businessId": business_id,
        "data": {"id": entity_id, "object": {}},
        **extra,
    }
    return json.dumps(event).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_events(db: Path) -> list[dict]:
    """The store's events table, read the way the tap reads it (read-only)."""
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY seq")]


def read_runs(db: Path) -> list[dict]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY started_at")]


@dataclass
class RunRecorder:
    """The JSON-lines file the recording run writes, and the file that tells it how to behave."""

    record_path: Path
    control_path: Path

    def control(self, sleep: float = 0.0, fail_runs: int = 0) -> None:
        """Each run sleeps ``sleep`` s; the first ``fail_runs`` runs exit 3."""
        self.control_path.write_text(json.dumps({"sleep": sleep, "fail_runs": fail_runs}))

    def entries(self) -> list[dict]:
        if not self.record_path.exists():
            return []
        lines = self.record_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def starts(self) -> list[dict]:
        return [e for e in self.entries() if e["phase"] == "start"]

    def ends(self) -> list[dict]:
        return [e for e in self.entries() if e["phase"] == "end"]

    def kill_leftovers(self) -> None:
        ended = {e["pid"] for e in self.ends()}
        for start in self.starts():
            if start["pid"] not in ended:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(start["pid"], signal.SIGKILL)


@dataclass
class Relay:
    """A ``webhook-relay serve`` subprocess and everything around it."""

    db: Path
    project: Path
    recorder: RunRecorder
    log_path: Path
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra_args: str) -> Relay:
        self.port = free_port()
        args = list(extra_args) or self.extra_args
        if not any(a == "--run-command" or a == "--meltano-bin" for a in args):
            args = ["--run-command", f"{shlex.quote(sys.executable)} {RECORDER}", *args]
        env = {
            **os.environ,
            "WAVE_WEBHOOK_SECRET": SECRET,
            "RELAY_TEST_RECORD": str(self.recorder.record_path),
            "RELAY_TEST_CONTROL": str(self.recorder.control_path),
            **self.env,
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(RELAY_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--db", str(self.db), "--meltano-project", str(self.project), *args],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(self._healthy, timeout=20, what=f"relay /healthz on port {self.port}")
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"relay exited with {self.process.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill9(self) -> None:
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

    def post(self, body: bytes, signature: str | None = "sign", **headers: str) -> httpx.Response:
        sent = {"content-type": "application/json", **headers}
        if signature == "sign":
            sent["x-wave-signature"] = sign(body)
        elif signature is not None:
            sent["x-wave-signature"] = signature
        return httpx.post(f"{self.url}/webhooks/wave", content=body, headers=sent, timeout=10)

    def events(self) -> list[dict]:
        return read_events(self.db)

    def runs(self) -> list[dict]:
        return read_runs(self.db)

    def metrics(self) -> dict[str, float]:
        """Samples of /metrics as {'name{label="v"}': value}."""
        from prometheus_client.parser import text_string_to_metric_families

        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        samples = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
        return samples


@contextlib.contextmanager
def relay_workspace(directory: Path) -> Iterator[Callable[..., Relay]]:
    """Make relays sharing one store, project and recorder in ``directory``; stop them after."""
    project = directory / "meltano-project"
    project.mkdir()
    recorder = RunRecorder(directory / "runs.jsonl", directory / "control.json")
    recorder.control()
    made: list[Relay] = []

    def make(*extra_args: str, env: dict[str, str] | None = None, start: bool = True) -> Relay:
        relay = Relay(
            db=directory / "store" / "events.db",
            project=project,
            recorder=recorder,
            log_path=directory / f"relay-{len(made)}.log",
            extra_args=list(extra_args),
            env=env or {},
        )
        made.append(relay)
        return relay.start() if start else relay

    try:
        yield make
    finally:
        for relay in made:
            relay.stop()
        recorder.kill_leftovers()


@pytest.fixture
def relay_factory(tmp_path: Path) -> Iterator[Callable[..., Relay]]:
    with relay_workspace(tmp_path) as make:
        yield make


@pytest.fixture(scope="module")
def module_relay_factory(tmp_path_factory) -> Iterator[Callable[..., Relay]]:
    """Like ``relay_factory``, shared by one test module."""
    with relay_workspace(tmp_path_factory.mktemp("relay")) as make:
        yield make


@pytest.fixture(scope="session")
def webhook_secrets() -> dict[str, str]:
    """The secrets relays are started with: ``current`` (always) and ``previous``."""
    return {"current": SECRET, "previous": PREVIOUS_SECRET}


@pytest.fixture(scope="session")
def signer() -> Callable[..., str]:
    """``signer(body, secret=SECRET, timestamp=None)`` -> x-wave-signature value."""
    return sign


@pytest.fixture(scope="session")
def new_event() -> Callable[..., bytes]:
    """``new_event(business_id=..., event_type=..., event_id=..., entity_id=...)`` -> body."""
    return event_body


@pytest.fixture(scope="session")
def eventually() -> Callable[..., object]:
    """``eventually(condition, timeout=30, what=...)``: poll until truthy, else fail."""
    return wait_for
