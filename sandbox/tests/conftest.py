"""Shared fixtures for the sandbox tests: a real HTTP webhook receiver, a simulator cursor."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class WebhookReceiver:
    """A tiny HTTP server recording every POST (headers and raw body) it receives.

    ``fail_first`` answers that many requests with 503 before accepting, to exercise retries.
    """

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[dict] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "path": self.path}
                    )
                    failing = receiver.fail_first > 0
                    if failing:
                        receiver.fail_first -= 1
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/wave"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def events(self) -> list[dict]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.requests]

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        """Wait until some received event satisfies ``predicate``; return all such events."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events() if predicate(e)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no matching webhook within {timeout}s; got {self.events()}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver_factory():
    """Start WebhookReceivers (``fail_first=N`` to refuse the first N); all closed at teardown."""
    receivers: list[WebhookReceiver] = []

    def start(fail_first: int = 0) -> WebhookReceiver:
        receivers.append(WebhookReceiver(fail_first))
        return receivers[-1]

    yield start
    for receiver in receivers:
        receiver.close()


@pytest.fixture(scope="session")
def webhook_receiver_class() -> type[WebhookReceiver]:
    """The receiver class itself, for module-scoped fixtures (conftest is not importable)."""
    return WebhookReceiver


@pytest.fixture
def cur(databricks_sandbox):
    """A cursor of the real databricks-sql-connector on the session's simulator (PAT)."""
    with databricks_sandbox.connect() as conn, conn.cursor() as cursor:
        yield cursor
