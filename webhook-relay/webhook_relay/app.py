"""The relay's HTTP face (Starlette): POST /webhooks/wave, GET /healthz, GET /metrics.

``/webhooks/wave`` answers exactly as the contract's table says: 405 for any method but POST,
413 for a body over the limit (never reading past it), 401 for anything not authentic (checked
on the raw bytes, before any parsing), 400 for authentic bodies that are not an event, and
202 (new) or 200 (duplicate) only once the event is committed to the store. Of a rejected request
only the reason code is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from webhook_relay.config import RelaySettings
from webhook_relay.metrics import RelayMetrics
from webhook_relay.runlock import RunLock, lock_path
from webhook_relay.signature import SIGNATURE_HEADER, SignatureRejected, SignatureVerifier
from webhook_relay.store import EventStore, IncomingEvent
from webhook_relay.worker import RunWorker

log = logging.getLogger("webhook_relay.app")

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
REQUIRED_FIELDS = ("id", "type", "businessId")


class BodyTooLarge(Exception):
    pass


class NotAnEvent(Exception):
    """An authentic body that is not a usable event; the message is the reason code."""


@dataclass
class Relay:
    """What the request handlers share: settings, verifier, store, metrics, worker."""

    settings: RelaySettings
    verifier: SignatureVerifier
    store: EventStore
    metrics: RelayMetrics
    worker: RunWorker


async def read_body_within(request: Request, limit: int) -> bytes:
    """The whole body, or ``BodyTooLarge`` as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def event_from_body(body: bytes) -> IncomingEvent:
    """Read an authentic body as an event, or raise ``NotAnEvent`` with a reason code."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAnEvent("not_json") from exc
    if not isinstance(document, dict):
        raise NotAnEvent("not_an_object")
    for name in REQUIRED_FIELDS:
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise NotAnEvent(f"missing_{name}")
    data = document.get("data")
    entity_id = data.get("id") if isinstance(data, dict) else None
    created_at = document.get("createdAt")
    return IncomingEvent(
        id=document["id"],
        business_id=document["businessId"],
        type=document["type"],
        entity_id=entity_id if isinstance(entity_id, str) else None,
        created_at=created_at if isinstance(created_at, str) else None,
        body=text,
    )


def _reject(relay: Relay, status: int, reason: str) -> JSONResponse:
    relay.metrics.rejected.labels(reason=reason).inc()
    log.info("webhook rejected: status=%d reason=%s", status, reason)
    headers = {"Allow": "POST"} if status == 405 else None
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


async def receive_webhook(request: Request) -> Response:
    relay: Relay = request.app.state.relay
    if request.method != "POST":
        return _reject(relay, 405, "method_not_allowed")
    try:
        body = await read_body_within(request, relay.settings.max_body_bytes)
    except BodyTooLarge:
        return _reject(relay, 413, "body_too_large")
    try:
        relay.verifier.verify(request.headers.get(SIGNATURE_HEADER), body, time.time())
    except SignatureRejected as rejected:
        return _reject(relay, 401, rejected.reason.value)
    try:
        event = event_from_body(body)
    except NotAnEvent as not_event:
        return _reject(relay, 400, str(not_event))
    try:
        stored = await run_in_threadpool(relay.store.insert_event, event)
    except Exception:
        log.exception("event %s: could not be stored; answering 503 so Wave retries", event.id)
        return JSONResponse({"error": "store_unavailable"}, status_code=503)
    if not stored:
        relay.metrics.duplicates.inc()
        log.info("event %s (%s) is a duplicate; already stored", event.id, event.type)
        return JSONResponse({"status": "duplicate", "id": event.id}, status_code=200)
    relay.metrics.count_received(event.type)
    relay.worker.notify()
    return JSONResponse({"status": "stored", "id": event.id}, status_code=202)


async def healthz(request: Request) -> Response:
    relay: Relay = request.app.state.relay
    pending = await run_in_threadpool(relay.store.pending_count)
    return JSONResponse({"status": "ok", "pending": pending})


async def metrics(request: Request) -> Response:
    relay: Relay = request.app.state.relay
    payload = await run_in_threadpool(relay.metrics.exposition)
    return Response(payload, media_type=relay.metrics.content_type)


def create_app(settings: RelaySettings) -> Starlette:
    """The ASGI app; its lifespan opens the store and runs the worker."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = EventStore(settings.db_path)
        interrupted = store.interrupt_unfinished_runs()
        if interrupted:
            log.warning("%d run(s) were cut short by the last stop; re-running", interrupted)
        relay_metrics = RelayMetrics(queue_depth=store.pending_count)
        worker = RunWorker(
            store=store,
            command=settings.run_command,
            lock=RunLock(lock_path(settings.meltano_project)),
            metrics=relay_metrics,
            settings=settings.worker,
            run_log_dir=settings.run_log_dir,
        )
        app.state.relay = Relay(
            settings=settings,
            verifier=SignatureVerifier(settings.secrets, settings.tolerance_seconds),
            store=store,
            metrics=relay_metrics,
            worker=worker,
        )
        worker_task = asyncio.create_task(worker.run_forever(), name="webhook-relay-worker")
        log.info(
            "relay ready: store %s, %d event(s) pending", settings.db_path, store.pending_count()
        )
        try:
            yield
        finally:
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
            store.close()

    return Starlette(
        routes=[
            Route("/webhooks/wave", receive_webhook, methods=ALL_METHODS),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
