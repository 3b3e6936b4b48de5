"""The sandbox's HTTP surface (Starlette): GraphQL, OAuth token, health and control endpoints.

POST /graphql/public   GraphQL (validated, Bearer token required, Wave-shaped errors, faults)
POST /oauth2/token/    OAuth2 refresh-token grant with rotation (form-encoded)
GET  /sandbox/stats    {"requests", "by_operation", "throttled", "faults", ...}
GET  /sandbox/webhooks {"events": [every webhook event emitted, with its delivery]}
POST /sandbox/faults   change rate limit / fault rate while running
POST /sandbox/clock    {"advance_seconds": N} moves the sandbox clock forward
GET  /healthz          readiness
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from graphql import OperationDefinitionNode, get_operation_ast
from graphql.execution.values import get_variable_values
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import errors as codes
from .auth import TokenAuthority
from .errors import WaveError, error_entry
from .execution import DocumentCache, run_document
from .faults import FaultInjector
from .store import Books

log = logging.getLogger("wave_sandbox")


@dataclass
class RequestContext:
    """What resolvers and mutations see as ``info.context``."""

    books: Books
    today: date
    page_size_max: int
    user: dict
    oauth_application: dict
    events: Any  # webhooks.EventSink
    scopes: frozenset[str]  # the bearer token's OAuth scopes (scopes.FULL_ACCESS for most)


@dataclass
class Stats:
    requests: int = 0
    by_operation: Counter = field(default_factory=Counter)
    throttled: int = 0
    faults: int = 0
    graphql_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def as_json(self) -> dict:
        with self.lock:
            return {
                "requests": self.requests,
                "by_operation": dict(self.by_operation),
                "throttled": self.throttled,
                "faults": self.faults,
                "graphql_errors": self.graphql_errors,
            }


class WaveSandboxApp:
    def __init__(
        self,
        *,
        schema,
        books: Books,
        authority: TokenAuthority,
        faults: FaultInjector,
        events,
        page_size_max: int,
        user: dict,
        oauth_application: dict,
    ) -> None:
        self.schema, self.books, self.authority = schema, books, authority
        self.faults, self.events, self.page_size_max = faults, events, page_size_max
        self.user, self.oauth_application = user, oauth_application
        self.documents = DocumentCache(schema)
        self.stats = Stats()
        self.app = Starlette(
            routes=[
                Route("/graphql/public", self.graphql, methods=["POST"]),
                Route("/oauth2/token/", self.token, methods=["POST"]),
                Route("/sandbox/stats", self.get_stats, methods=["GET"]),
                Route("/sandbox/webhooks", self.get_webhooks, methods=["GET"]),
                Route("/sandbox/faults", self.set_faults, methods=["GET", "POST"]),
                Route("/sandbox/clock", self.clock, methods=["GET", "POST"]),
                Route("/healthz", self.healthz, methods=["GET"]),
            ]
        )

    # -- GraphQL ----------------------------------------------------------------------------
    async def graphql(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse(
                {
                    "errors": [
                        error_entry(
                            "The request body must be a JSON object with a 'query' string "
                            "(and optional 'variables' object and 'operationName').",
                            codes.BAD_USER_INPUT,
                            request_id,
                        )
                    ],
                    "data": None,
                },
                status_code=400,
            )
        query, variables = body["query"], body.get("variables")
        operation_name = body.get("operationName")
        parsed = self.documents.get(query)
        operation = (
            get_operation_ast(parsed.document, operation_name)
            if parsed.document is not None
            else None
        )
        with self.stats.lock:
            self.stats.requests += 1
            self.stats.by_operation[_operation_label(operation_name, operation)] += 1

        decision = self.faults.decide()
        if decision.throttle_seconds is not None:
            with self.stats.lock:
                self.stats.throttled += 1
            return JSONResponse(
                {
                    "errors": [
                        error_entry(
                            "Too many requests; retry after the number of seconds in Retry-After.",
                            "TOO_MANY_REQUESTS",
                            request_id,
                        )
                    ]
                },
                status_code=429,
                headers={"Retry-After": str(decision.throttle_seconds)},
            )
        if decision.fault is not None:
            with self.stats.lock:
                self.stats.faults += 1
            if decision.fault == "stall":
                await asyncio.sleep(self.faults.stall_seconds)
                return Response("upstream timed out\n", status_code=504)
            return Response(
                f"sandbox injected fault {decision.fault}\n",
                status_code=decision.fault,
                media_type="text/plain",
            )
        if decision.graphql_error:
            with self.stats.lock:
                self.stats.graphql_errors += 1
            return _graphql_response(
                None,
                [error_entry("Internal server error.", codes.INTERNAL_SERVER_ERROR, request_id)],
            )
        return self._execute(
            parsed,
            operation,
            query,
            variables,
            operation_name,
            request.headers.get("authorization"),
            request_id,
        )

    def _execute(
        self, parsed, operation, query, variables, operation_name, authorization, request_id
    ) -> Response:
        if parsed.errors:
            code = (
                codes.GRAPHQL_PARSE_FAILED
                if parsed.syntax_error
                else codes.GRAPHQL_VALIDATION_FAILED
            )
            return _graphql_response(None, [_formatted(e, code, request_id) for e in parsed.errors])
        if operation is None:
            message = (
                f"Unknown operation named '{operation_name}'."
                if operation_name
                else "The document has several operations; send 'operationName'."
            )
            return _graphql_response(None, [error_entry(message, codes.BAD_USER_INPUT, request_id)])
        if variables is not None and not isinstance(variables, dict):
            return _graphql_response(
                None,
                [
                    error_entry(
                        "'variables' must be a JSON object.", codes.BAD_USER_INPUT, request_id
                    )
                ],
            )
        check = self.authority.check_bearer(authorization)
        if not check.ok and not _introspection_only(operation):
            # Wave validates variables before it checks authentication.
            coerced = get_variable_values(
                self.schema, operation.variable_definitions or [], variables or {}
            )
            if isinstance(coerced, list):
                return _graphql_response(
                    None, [_formatted(e, codes.BAD_USER_INPUT, request_id) for e in coerced]
                )
            return _graphql_response(
                None, [error_entry(check.reason, codes.UNAUTHENTICATED, request_id)]
            )
        context = RequestContext(
            self.books,
            self.books.clock.today(),
            self.page_size_max,
            self.user,
            self.oauth_application,
            self.events,
            check.scopes,
        )
        result = run_document(self.schema, parsed.document, context, variables, operation_name)
        errors = None
        if result.errors:
            errors = [_formatted(e, _code_of(e, result.data), request_id) for e in result.errors]
        return _graphql_response(result.data, errors)

    # -- OAuth ------------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        # form-encoded, parsed here (Starlette's request.form() needs python-multipart)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = self.authority.token_grant(form, request.headers.get("authorization"))
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    # -- control ----------------------------------------------------------------------------
    async def get_stats(self, _request: Request) -> Response:
        stats = self.stats.as_json()
        stats["webhooks"] = self.events.stats() if self.events is not None else None
        return JSONResponse(stats)

    async def get_webhooks(self, _request: Request) -> Response:
        events = self.events.emitted() if self.events is not None else []
        return JSONResponse({"events": events})

    async def set_faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.faults.settings())
        try:
            changes = json.loads(await request.body() or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            return JSONResponse(self.faults.configure(changes))
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": f"bad /sandbox/faults body: {error}"}, status_code=400)

    async def clock(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                body = json.loads(await request.body() or b"{}")
                self.books.clock.advance(float(body["advance_seconds"]))
            except (ValueError, TypeError, KeyError) as error:
                return JSONResponse(
                    {
                        "error": "POST /sandbox/clock needs a JSON body "
                        f'{{"advance_seconds": N}} with N >= 0 ({error})'
                    },
                    status_code=400,
                )
        return JSONResponse({"now": self.books.clock.now_iso()})

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"ok": True, "businesses": len(self.books.businesses)})


def _operation_label(operation_name: str | None, operation) -> str:
    if operation_name:
        return operation_name
    if isinstance(operation, OperationDefinitionNode) and operation.name:
        return operation.name.value
    return "anonymous"


def _introspection_only(operation: OperationDefinitionNode) -> bool:
    selections = operation.selection_set.selections
    return all(
        getattr(s, "name", None) is not None and s.name.value.startswith("__") for s in selections
    )


def _code_of(error, data) -> str:
    original = error.original_error
    if isinstance(original, WaveError):
        return original.extensions["code"]
    if error.extensions and error.extensions.get("code"):
        return error.extensions["code"]
    if data is None and not error.path:
        return codes.BAD_USER_INPUT  # variable coercion failed before execution
    if original is not None:
        log.error("resolver failed at %s", error.path, exc_info=original)
        return codes.INTERNAL_SERVER_ERROR
    return codes.BAD_USER_INPUT


def _formatted(error, code: str, request_id: str) -> dict:
    entry = error.formatted
    message = "Internal server error." if code == codes.INTERNAL_SERVER_ERROR else entry["message"]
    extra = {k: entry[k] for k in ("locations", "path") if entry.get(k)}
    return error_entry(message, code, request_id, **extra)


def _graphql_response(data, errors) -> Response:
    body: dict = {}
    if errors:
        body["errors"] = errors
    body["data"] = data
    return JSONResponse(body)
