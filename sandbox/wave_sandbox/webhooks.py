"""Webhook events as docs/webhooks.md specifies, delivered in the background.

``emit`` builds the event body (``id``, ``type``, ``createdAt`` from the sandbox clock,
``businessId``, ``data {id, object}``) and queues it; one worker thread POSTs it with
``x-wave-signature: t=<unix seconds>,v1=<hex>`` (one ``v1`` per configured secret, HMAC-SHA256 of
``"<t>." + body``; ``t`` is real time at each attempt) and retries non-2xx answers and connection
errors with exponential backoff. Mutations never wait for delivery.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import threading
import time

import httpx

from .clock import SandboxClock

log = logging.getLogger("wave_sandbox.webhooks")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


class WebhookSender:
    """Builds events and (when a URL is configured) delivers them with retries."""

    def __init__(
        self,
        clock: SandboxClock,
        seed: int,
        url: str | None = None,
        secrets: list[str] | None = None,
        max_attempts: int = 8,
        first_retry_seconds: float = 0.5,
        max_retry_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.clock, self.url, self.secrets = clock, url, list(secrets or [])
        self.max_attempts, self.first_retry = max_attempts, first_retry_seconds
        self.max_retry, self.timeout = max_retry_seconds, timeout_seconds
        self._ids = random.Random(f"events:{seed}")
        self._queue: list = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._counts = {"emitted": 0, "delivered": 0, "failed_attempts": 0, "gave_up": 0}
        self.recent: list[dict] = []  # last events, for debugging via /sandbox/stats
        self._emitted: dict[str, dict] = {}  # every event, with its delivery: GET /sandbox/webhooks
        self._thread = None
        if url:
            if not self.secrets:
                raise ValueError("--webhook-url needs --webhook-secret to sign deliveries")
            self._thread = threading.Thread(
                target=self._deliver_forever, name="webhook-delivery", daemon=True
            )
            self._thread.start()

    def _event_id(self) -> str:
        millis = int(self.clock.now().timestamp() * 1000)
        value = (millis << 80) | self._ids.getrandbits(80)
        return "evt_" + "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))

    def emit(
        self, business: dict, event_type: str, entity_id: str, obj: dict | None = None
    ) -> dict:
        event = {
            "id": self._event_id(),
            "type": event_type,
            "createdAt": self.clock.now_iso(),
            "businessId": business["id"],
            "data": {"id": entity_id},
        }
        if obj is not None:
            event["data"]["object"] = obj
        body = json.dumps(event, separators=(",", ":")).encode()
        with self._wake:
            self._counts["emitted"] += 1
            self.recent = [*self.recent[-19:], {"id": event["id"], "type": event_type}]
            self._emitted[event["id"]] = {
                "id": event["id"],
                "type": event_type,
                "businessId": business["id"],
                "entityId": entity_id,
                "attempts": 0,
                "delivered": False,
            }
            if self._thread is not None:
                heapq.heappush(
                    self._queue, (time.monotonic(), next(self._order), body, 1, event["id"])
                )
                self._wake.notify()
        return event

    def stats(self) -> dict:
        with self._wake:
            return {**self._counts, "pending": len(self._queue), "url": self.url}

    def emitted(self) -> list[dict]:
        """Every event emitted so far, in order, with its delivery attempts and whether one of
        them got a 2xx (so a test can tell exactly which events a receiver lost)."""
        with self._wake:
            return [dict(entry) for entry in self._emitted.values()]

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _deliver_forever(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                with self._wake:
                    while not self._closed and (
                        not self._queue or self._queue[0][0] > time.monotonic()
                    ):
                        wait = self._queue[0][0] - time.monotonic() if self._queue else None
                        self._wake.wait(wait)
                    if self._closed:
                        return
                    _due, order, body, attempt, event_id = heapq.heappop(self._queue)
                delivered = self._attempt(client, body)
                with self._wake:
                    self._emitted[event_id]["attempts"] = attempt
                    self._emitted[event_id]["delivered"] = delivered
                    if delivered:
                        self._counts["delivered"] += 1
                        continue
                    self._counts["failed_attempts"] += 1
                    if attempt >= self.max_attempts:
                        self._counts["gave_up"] += 1
                        log.warning("webhook gave up after %d attempts: %s", attempt, body[:120])
                        continue
                    delay = min(self.first_retry * 2 ** (attempt - 1), self.max_retry)
                    heapq.heappush(
                        self._queue, (time.monotonic() + delay, order, body, attempt + 1, event_id)
                    )

    def _attempt(self, client: httpx.Client, body: bytes) -> bool:
        headers = {
            "Content-Type": "application/json",
            "x-wave-signature": signature_header(self.secrets, int(time.time()), body),
        }
        try:
            response = client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            log.info("webhook delivery to %s failed: %s", self.url, error)
            return False
        return 200 <= response.status_code < 300
