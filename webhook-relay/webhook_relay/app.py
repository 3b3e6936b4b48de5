"""The relay's HTTP face (Starlette): POST /webhooks/wave, GET /healthz, /metrics and /status.

``/webhooks/wave`` answers exactly as the contract's table says: 405 for any method but POST,
413 for a body over the limit (never reading past it), 408 for a body that stalls, 401 for
anything not authentic (checked on the raw bytes, before any parsing), 400 with a reason code
for authentic bodies that are not a usable event (validation.py), and 202 (new) or 200
(duplicate) only once the event is committed to the store. Of a rejected request only the reason
code is logged. ``/status`` is the operators' page (status_page.py), read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypedDict

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from webhook_relay import views
from webhook_relay.catalog_cache import CATALOG_ENV, CatalogCache
from webhook_relay.config import RelaySettings
from webhook_relay.metrics import RelayMetrics
from webhook_relay.runlock import RunLock, lock_path
from webhook_relay.runlogs import Redactor, log_tail, run_log_path
from webhook_relay.serving import quiet_accept_errors
from webhook_relay.signature import SIGNATURE_HEADER, SignatureRejected, SignatureVerifier
from webhook_relay.status_page import render_status_page
from webhook_relay.store import EventStore
from webhook_relay.validation import NotAnEvent, event_from_body
from webhook_relay.warm_start import WarmStart, meltano_interpreter
from webhook_relay.worker import RunWorker

log = logging.getLogger("webhook_relay.app")

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_LOG_VIEW_BYTES = 512 * 1024
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


@dataclass
class Relay:
    """What the request handlers share: settings, verifier, store, metrics, worker."""

    settings: RelaySettings
    verifier: SignatureVerifier
    store: EventStore
    metrics: RelayMetrics
    worker: RunWorker
    redact: Redactor


async def read_body_within(request: Request, limit: int, timeout: float) -> bytes:
    """The whole body; ``BodyTooLarge`` as soon as it is known to exceed ``limit`` bytes,
    ``BodyTimeout`` when it has not all arrived within ``timeout`` seconds."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(chunk)
    except TimeoutError as exc:
        raise BodyTimeout from exc
    return b"".join(chunks)


def _reject(relay: Relay, status: int, reason: str) -> JSONResponse:
    relay.metrics.rejected.labels(reason=reason).inc()
    log.info("webhook rejected: status=%d reason=%s", status, reason)
    headers = {"Allow": "POST"} if status == 405 else None
    if status in (408, 413):
        headers = {"Connection": "close"}  # the rest of the body is never read
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


async def receive_webhook(request: Request) -> Response:
    relay: Relay = request.app.state.relay
    if request.method != "POST":
        return _reject(relay, 405, "method_not_allowed")
    try:
        body = await read_body_within(
            request, relay.settings.max_body_bytes, relay.settings.body_timeout_seconds
        )
    except BodyTooLarge:
        return _reject(relay, 413, "body_too_large")
    except BodyTimeout:
        return _reject(relay, 408, "body_timeout")
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
    except sqlite3.Error:
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
    """``ok`` or ``degraded`` (events quarantined), always 200 while the relay answers."""
    relay: Relay = request.app.state.relay
    return JSONResponse(await run_in_threadpool(views.health, relay.store))


async def metrics(request: Request) -> Response:
    relay: Relay = request.app.state.relay
    payload = await run_in_threadpool(relay.metrics.exposition)
    return Response(payload, media_type=relay.metrics.content_type)


def _status_page(relay: Relay) -> str:
    return render_status_page(
        views.health(relay.store),
        views.business_statuses(relay.store),
        views.quarantined_events(relay.store),
        views.recent_runs(relay.store),
        relay.redact,
    )


async def status(request: Request) -> Response:
    relay: Relay = request.app.state.relay
    page = await run_in_threadpool(_status_page, relay)
    return HTMLResponse(page, headers=_PAGE_HEADERS)


async def run_log(request: Request) -> Response:
    """A run's log as text, redacted; 404 unless the id is a run of this store."""
    relay: Relay = request.app.state.relay
    run_id = request.path_params["run_id"]
    path = run_log_path(relay.settings.run_log_dir, run_id)
    if path is None or not await run_in_threadpool(views.run_exists, relay.store, run_id):
        return PlainTextResponse("no such run\n", status_code=404, headers=_PAGE_HEADERS)
    text = await run_in_threadpool(log_tail, path, _LOG_VIEW_BYTES)
    if not text:
        text = "(this run's log is no longer kept; quarantined events keep theirs in the store)\n"
    return PlainTextResponse(relay.redact(text), headers=_PAGE_HEADERS)


class _StartUpSavers(TypedDict, total=False):
    """What ``RunWorker`` gets to start runs fast (README, "How a run starts fast")."""

    warm_start: WarmStart
    catalog: CatalogCache


def _start_up_savers(settings: RelaySettings) -> _StartUpSavers:
    """The warm start and the catalog cache of the worker, for runs of a real Meltano (its
    console script, by the default command); none for anything else."""
    command = settings.run_command
    found = None
    if command.runs_meltano:
        found = meltano_interpreter(command.meltano_bin, os.environ.get("PATH"))
    if found is None:
        return {}
    savers: _StartUpSavers = {}
    if settings.warm_start:
        savers["warm_start"] = WarmStart(
            *found, command.project, settings.run_log_dir / "warm-start.out"
        )
    if settings.catalog_cache and CATALOG_ENV not in os.environ:  # not over the operator's
        savers["catalog"] = CatalogCache(
            settings.db_path.parent,
            settings.meltano_project,
            command.meltano_bin,
            command.environment,
        )
    log.info(
        "runs: meltano started ahead of time %s, catalog discovered once %s",
        "on" if "warm_start" in savers else "off",
        "on" if "catalog" in savers else "off",
    )
    return savers


def create_app(settings: RelaySettings) -> Starlette:
    """The ASGI app; its lifespan opens the store and runs the worker."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        quiet_accept_errors(asyncio.get_running_loop())
        store = EventStore(settings.db_path)
        interrupted = store.interrupt_unfinished_runs()
        if interrupted:
            log.warning("%d run(s) were cut short by the last stop; re-running", interrupted)
        relay_metrics = RelayMetrics(
            queue_depth=store.pending_count, quarantined=store.quarantined_count
        )
        redact = Redactor.from_environment(
            os.environ, settings.secrets, settings.meltano_project / ".env"
        )
        worker = RunWorker(
            store=store,
            command=settings.run_command,
            lock=RunLock(lock_path(settings.meltano_project)),
            metrics=relay_metrics,
            settings=settings.worker,
            run_log_dir=settings.run_log_dir,
            redact=redact,
            **_start_up_savers(settings),
        )
        app.state.relay = Relay(
            settings=settings,
            verifier=SignatureVerifier(settings.secrets, settings.tolerance_seconds),
            store=store,
            metrics=relay_metrics,
            worker=worker,
            redact=redact,
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
            Route("/status", status, methods=["GET"]),
            Route("/status/runs/{run_id}/log", run_log, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
