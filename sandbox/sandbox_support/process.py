"""Run a sandbox server as a subprocess on a free port, for tests and benchmarks.

Shared by `wave_sandbox.testing` and `databricks_sandbox.testing`: the command line from options,
the wait for /healthz (with the server's log in the error when it does not come up), JSON control
requests, and a shutdown that always reaps the process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_arguments(options: dict) -> list[str]:
    """Options in snake_case -> flags: True is a bare flag, a list repeats the flag."""
    argv: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, list | tuple):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


def spawn(module: str, options: dict, log_path: Path) -> subprocess.Popen:
    """`python -m <module> serve <flags>` with its output in `log_path`."""
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", module, "serve", *cli_arguments(options)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


class ServerProcess:
    """A running sandbox server: its base URL, log, control requests and shutdown."""

    name = "sandbox"

    def __init__(
        self, base_url: str, process: subprocess.Popen, log_path: Path, verify: str | bool = True
    ) -> None:
        self.base_url = base_url
        self.process = process
        self.log_path = log_path
        self.http = httpx.Client(timeout=30, verify=verify)  # verify: a CA file for https

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _control(self, method: str, path: str, body: dict | None = None):
        response = self.http.request(method, self.base_url + path, json=body)
        response.raise_for_status()
        return response.json()

    def wait_healthy(self, timeout: float) -> None:
        """Return once GET /healthz answers 200; raise with the log's tail otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode} before "
                    f"it was ready; log:\n{self.log()[-3000:]}"
                )
            try:
                if self.http.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy after {timeout}s; log:\n{self.log()[-3000:]}")

    def close(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
