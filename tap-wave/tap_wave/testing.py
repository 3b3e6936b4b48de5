"""Running the real `tap-wave` command against the Wave sandbox (for tests and bench/).

`TapRunner` runs the installed console script as a subprocess and parses its Singer output;
`sandbox_totals` asks the sandbox itself how many records each stream should have (each stream's
connection, with the arguments its own query gives it, as streams.py declares them);
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
from typing import TYPE_CHECKING, Any, Protocol

from tap_wave import queries
from tap_wave.streams import read_from_wave

if TYPE_CHECKING:
    from graphql import FieldNode

Record = dict[str, Any]
TAP = shutil.which("tap-wave", path=str(Path(sys.executable).parent)) or "tap-wave"
FAST = {"requests_per_minute": 60000, "page_size": 50}


class Sandbox(Protocol):
    """What these helpers use of a running Wave sandbox (wave_sandbox.testing.WaveSandbox)."""

    access_token: str
    graphql_url: str
    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def business_ids(self) -> list[str]: ...


def _connection_field(document: str, connection: str) -> FieldNode:
    """The one field named `connection` in `document`."""
    from graphql import Visitor, parse, visit

    fields: list[FieldNode] = []

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_args: object) -> None:
            if node.name.value == connection:
                fields.append(node)

    visit(parse(document), Finder())
    [field] = fields
    return field


def list_everything() -> dict[str, str]:
    """Stream name -> its Business connection with the literal arguments of the stream's own
    query (`products(sort: [MODIFIED_AT_ASC], isArchived: null)`: archived ones too)."""
    from graphql import VariableNode, print_ast

    found: dict[str, str] = {}
    for stream in read_from_wave():
        field = _connection_field(
            queries.document(stream.document_name("query_name")), stream.connection
        )
        literal = [a for a in field.arguments or () if not isinstance(a.value, VariableNode)]
        arguments = ", ".join(print_ast(argument) for argument in literal)
        found[stream.name] = f"{stream.connection}({arguments})" if arguments else stream.connection
    return found


@dataclass
class TapRun:
    """One finished `tap-wave` process: exit code, logs, and its Singer messages."""

    returncode: int
    stderr: str
    schemas: dict[str, Record] = field(default_factory=dict)
    records: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    states: list[Record] = field(default_factory=list)

    @property
    def state(self) -> Record:
        return self.states[-1] if self.states else {}

    def counts(self) -> Counter[tuple[str, str]]:
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

    def _write(self, kind: str, content: Record) -> Path:
        self._count += 1
        path = self.directory / f"{kind}-{self._count}.json"
        path.write_text(json.dumps(content))
        return path

    def command(
        self, config: Record | None, state: Record | None = None, extra: tuple[str, ...] = ()
    ) -> list[str]:
        argv = [TAP, "--config", "ENV" if config is None else str(self._write("config", config))]
        if state:
            argv += ["--state", str(self._write("state", state))]
        return argv + list(extra)

    def start(
        self, config: Record, state: Record | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(config, state),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=self.directory,
        )

    @staticmethod
    def finish(process: subprocess.Popen[str], timeout: float = 120) -> TapRun:
        stdout, stderr = process.communicate(timeout=timeout)
        return parse_output(process.returncode, stdout, stderr)

    def run(
        self,
        config: Record | None,
        state: Record | None = None,
        env: dict[str, str] | None = None,
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


def access_config(sandbox: Sandbox, **settings: Any) -> Record:
    """Full-access-token mode."""
    return {
        "access_token": sandbox.access_token,
        "api_url": sandbox.graphql_url,
        **FAST,
        **settings,
    }


def oauth_config(sandbox: Sandbox, store: Path, key: str, **settings: Any) -> Record:
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


def sandbox_totals(
    sandbox: Sandbox, business_ids: list[str] | None = None
) -> Counter[tuple[str, str]]:
    """(stream, business_id) -> the sandbox's totalCount, for every stream."""
    ids = business_ids or sandbox.business_ids()
    connections = list_everything()
    totals: Counter[tuple[str, str]] = Counter()
    fields = " ".join(
        f"{name}: {connection} {{ pageInfo {{ totalCount }} }}"
        for name, connection in connections.items()
    )
    for business_id in ids:
        answer = sandbox.graphql(
            f"query($id: ID!) {{ business(id: $id) {{ {fields} }} }}", {"id": business_id}
        )
        assert "errors" not in answer, answer
        for name in connections:
            totals[(name, business_id)] = answer["data"]["business"][name]["pageInfo"]["totalCount"]
        totals[("businesses", business_id)] = 1
    return totals


def operation_requests(before: Record, after: Record) -> Counter[str]:
    """GraphQL requests per operation name the sandbox served between two stats snapshots."""
    return Counter(after["by_operation"]) - Counter(before["by_operation"])
