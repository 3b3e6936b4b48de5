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
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typing_extensions import override
from webhook_relay.testing import RelayProcess

SECRET = "whsec-current-7f3a"
PREVIOUS_SECRET = "whsec-previous-19c2"
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


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class RunRecorder:
    """The JSON-lines file the recording run writes, and the file that tells it how to behave."""

    record_path: Path
    control_path: Path

    def control(
        self,
        sleep: float = 0.0,
        fail_runs: int = 0,
        poison_ids: tuple = (),
        poison_businesses: tuple = (),
        output: str | None = None,
    ) -> None:
        """Each run sleeps ``sleep`` s; the first ``fail_runs`` runs exit 3, and so does any run
        covering an event of ``poison_ids`` or of ``poison_businesses``, printing ``output``."""
        settings = {
            "sleep": sleep,
            "fail_runs": fail_runs,
            "poison_ids": list(poison_ids),
            "poison_businesses": list(poison_businesses),
        }
        if output is not None:
            settings["output"] = output
        self.control_path.write_text(json.dumps(settings))

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
class Relay(RelayProcess):
    """The relay under test, with the recorder its runs write to."""

    recorder: RunRecorder | None = None

    @override
    def start(self, *args: str) -> Relay:  # serve flags, where RelayProcess's takes a timeout
        """Start; ``args`` (if given) replace the serve flags the relay was made with."""
        self.args = list(args) or self.args
        if not any(a in ("--run-command", "--meltano-bin") for a in self.args):
            self.args = ["--run-command", f"{shlex.quote(sys.executable)} {RECORDER}", *self.args]
        self.env = {
            "RELAY_TEST_RECORD": str(self.recorder.record_path),
            "RELAY_TEST_CONTROL": str(self.recorder.control_path),
            **self.env,
        }
        super().start()
        return self

    @property
    def project(self) -> Path:
        return self.meltano_project

    def post(self, body: bytes, signature: str | None = "sign") -> httpx.Response:
        """POST ``body``; signed with the current secret unless ``signature`` is given/None."""
        headers = {"content-type": "application/json"}
        if signature == "sign":
            headers["x-wave-signature"] = sign(body)
        elif signature is not None:
            headers["x-wave-signature"] = signature
        return httpx.post(self.webhook_url, content=body, headers=headers, timeout=10)


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
            meltano_project=project,
            secret=SECRET,
            log_path=directory / f"relay-{len(made)}.log",
            args=list(extra_args),
            env=env or {},
            recorder=recorder,
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
