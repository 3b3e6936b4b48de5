"""Start a real ``wave-sandbox`` process for tests and benchmarks, and talk to it.

    with start_wave_sandbox(businesses=3, seed=7, invoices=120) as sandbox:
        sandbox.graphql("{ businesses { edges { node { id } } } }")

Options are the CLI flags in snake_case (``webhook_url=...``, ``rate_limit="5/1"``); ``True``
passes a bare flag, a list repeats the flag. The process listens on a free port and is killed on
exit; if it does not become healthy the error carries the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
from sandbox_support.process import ServerProcess, free_port, spawn

DEFAULT_CREDENTIALS = {
    "access_token": "sandbox-token",
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "refresh_token": "sandbox-refresh",
}


class SandboxHTTPError(RuntimeError):
    """The sandbox answered a GraphQL request with a non-200 status."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(
            f"wave sandbox answered HTTP {response.status_code}: {response.text[:300]}"
        )
        self.response = response


class WaveSandbox(ServerProcess):
    """A running sandbox: its URLs, credentials and small client helpers."""

    name = "wave-sandbox"

    def __init__(
        self, base_url: str, options: dict, process: subprocess.Popen, log_path: Path
    ) -> None:
        super().__init__(base_url, process, log_path)
        self.graphql_url = base_url + "/graphql/public"
        self.token_url = base_url + "/oauth2/token/"
        self.options = options
        credentials = {
            key: options.get(key, default) for key, default in DEFAULT_CREDENTIALS.items()
        }
        self.access_token = credentials["access_token"]
        self.client_id = credentials["client_id"]
        self.client_secret = credentials["client_secret"]
        self.refresh_token = credentials["refresh_token"]

    def graphql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        """POST a document; returns the JSON answer (errors included). Non-200 raises."""
        body: dict = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = self.http.post(
            self.graphql_url,
            json=body,
            headers={"Authorization": f"Bearer {token or self.access_token}"},
        )
        if response.status_code != 200:
            raise SandboxHTTPError(response)
        return response.json()

    def business_ids(self) -> list[str]:
        ids, page = [], 1
        while True:
            answer = self.graphql(
                "query($page: Int!) { businesses(page: $page, pageSize: 50) "
                "{ pageInfo { totalPages } edges { node { id } } } }",
                {"page": page},
            )
            connection = answer["data"]["businesses"]
            ids += [edge["node"]["id"] for edge in connection["edges"]]
            if page >= (connection["pageInfo"]["totalPages"] or 0):
                return ids
            page += 1

    def stats(self) -> dict:
        return self._control("GET", "/sandbox/stats")

    def webhooks(self) -> list[dict]:
        """Every webhook event emitted so far: id, type, businessId, entityId, attempts (made so
        far) and delivered (a 2xx answered one of them)."""
        return self._control("GET", "/sandbox/webhooks")["events"]

    def set_faults(self, **settings) -> dict:
        return self._control("POST", "/sandbox/faults", settings)

    def advance_clock(self, seconds: float) -> str:
        return self._control("POST", "/sandbox/clock", {"advance_seconds": seconds})["now"]

    def now(self) -> str:
        return self._control("GET", "/sandbox/clock")["now"]


@contextlib.contextmanager
def start_wave_sandbox(startup_timeout: float = 60.0, **options) -> Iterator[WaveSandbox]:
    """Run ``wave-sandbox serve`` with ``options`` on a free port until the block exits."""
    options = dict(options)
    options.setdefault("host", "127.0.0.1")
    options.setdefault("port", free_port())
    log_fd, log_name = tempfile.mkstemp(prefix="wave-sandbox-", suffix=".log")
    os.close(log_fd)
    process = spawn("wave_sandbox", options, Path(log_name))
    sandbox = WaveSandbox(
        f"http://{options['host']}:{options['port']}", options, process, Path(log_name)
    )
    try:
        sandbox.wait_healthy(startup_timeout)
        yield sandbox
    finally:
        sandbox.close()
        with contextlib.suppress(OSError):
            os.unlink(log_name)
