"""Running the real `tap-wave` command against the Wave sandbox (for tests and bench/).

`TapRunner` runs the installed console script as a subprocess and parses its Singer output;
`sandbox_totals` asks the sandbox itself how many records each stream should have;
`access_config` / `oauth_config` build settings for the two credential modes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TAP = shutil.which("tap-wave", path=str(Path(sys.executable).parent)) or "tap-wave"
FAST = {"requests_per_minute": 60000, "page_size": 50}

# GraphQL field of each per-business stream, and the arguments that make Wave list everything.
CONNECTIONS = {
    "customers": "customers",
    "vendors": "vendors",
    "products": "products(isArchived: null)",
    "accounts": "accounts(isArchived: null)",
    "sales_taxes": "salesTaxes(isArchived: null)",
    "invoices": "invoices",
    "estimates": "estimates",
}


@dataclass
class TapRun:
    """One finished `tap-wave` process: exit code, logs, and its Singer messages."""

    returncode: int
    stderr: str
    schemas: dict[str, dict] = field(default_factory=dict)
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    states: list[dict] = field(default_factory=list)

    @property
    def state(self) -> dict:
        return self.states[-1] if self.states else {}

    def counts(self) -> Counter:
        """(stream, business_id) -> records emitted."""
        return Counter(
            (stream, r["business_id"]) for stream, rows in self.records.items() for r in rows
        )

    def ids(self, stream: str) -> set[str]:
        return {r["id"] for r in self.records.get(stream, [])}

    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("tap-wave: error:")]


def parse_output(returncode: int, stdout: str, stderr: str) -> TapRun:
    run = TapRun(returncode=returncode, stderr=stderr)
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA":
            run.schemas[message["stream"]] = message["schema"]
        elif message["type"] == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


class TapRunner:
    """Starts `tap-wave` processes with a config and optional state, in a temp directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._count = 0

    def _write(self, kind: str, content: dict) -> Path:
        self._count += 1
        path = self.directory / f"{kind}-{self._count}.json"
        path.write_text(json.dumps(content))
        return path

    def command(
        self, config: dict | None, state: dict | None = None, extra: tuple[str, ...] = ()
    ) -> list[str]:
        argv = [TAP, "--config", "ENV" if config is None else str(self._write("config", config))]
        if state:
            argv += ["--state", str(self._write("state", state))]
        return argv + list(extra)

    def start(
        self, config: dict, state: dict | None = None, env: dict | None = None
    ) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(config, state),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=self.directory,
        )

    @staticmethod
    def finish(process: subprocess.Popen, timeout: float = 120) -> TapRun:
        stdout, stderr = process.communicate(timeout=timeout)
        return parse_output(process.returncode, stdout, stderr)

    def run(
        self,
        config: dict | None,
        state: dict | None = None,
        env: dict | None = None,
        timeout: float = 120,
    ) -> TapRun:
        done = subprocess.run(
            self.command(config, state),
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            cwd=self.directory,
            check=False,
        )
        return parse_output(done.returncode, done.stdout, done.stderr)


def access_config(sandbox, **settings) -> dict:
    """Full-access-token mode."""
    return {
        "access_token": sandbox.access_token,
        "api_url": sandbox.graphql_url,
        **FAST,
        **settings,
    }


def oauth_config(sandbox, store: Path, key: str, **settings) -> dict:
    """OAuth mode with an encrypted token store."""
    return {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "refresh_token": sandbox.refresh_token,
        "token_url": sandbox.token_url,
        "api_url": sandbox.graphql_url,
        "token_store_path": str(store),
        "token_key": key,
        **FAST,
        **settings,
    }


def sandbox_totals(sandbox, business_ids: list[str] | None = None) -> Counter:
    """(stream, business_id) -> the sandbox's totalCount, for every stream."""
    ids = business_ids or sandbox.business_ids()
    totals: Counter = Counter()
    fields = " ".join(
        f"{name}: {connection} {{ pageInfo {{ totalCount }} }}"
        for name, connection in CONNECTIONS.items()
    )
    for business_id in ids:
        answer = sandbox.graphql(
            f"query($id: ID!) {{ business(id: $id) {{ {fields} }} }}", {"id": business_id}
        )
        assert "errors" not in answer, answer
        for name in CONNECTIONS:
            totals[(name, business_id)] = answer["data"]["business"][name]["pageInfo"]["totalCount"]
        totals[("businesses", business_id)] = 1
    return totals


def operation_requests(before: dict, after: dict) -> Counter:
    """GraphQL requests per operation name the sandbox served between two stats snapshots."""
    return Counter(after["by_operation"]) - Counter(before["by_operation"])
