"""Talking to Wave's GraphQL API: one request at a time, paced, retried, errors never ignored.

Every request the tap makes (stream pages, business discovery, delete reconciliation) goes
through `WaveClient.execute`, which:

- sends `{query, variables}` as a JSON POST body (variables never travel in the URL);
- waits for the shared `RequestLimiter`;
- retries HTTP 429 after `Retry-After`, and 5xx, timeouts, connection errors and transient
  GraphQL error codes with exponential back-off and jitter, a bounded number of times;
- renews the access token when Wave answers UNAUTHENTICATED (HTTP 401 or the GraphQL code);
- treats any other GraphQL `errors` in an HTTP 200 answer as fatal: a partial answer is never
  used.
"""

from __future__ import annotations

import decimal
import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from tap_wave.auth import AccessTokenSource
from tap_wave.errors import NotFound, TransientWaveError, Unauthenticated, WaveAPIError
from tap_wave.pacing import RequestLimiter, RetryPolicy, parse_retry_after

logger = logging.getLogger("tap-wave.client")

DEFAULT_API_URL = "https://gql.waveapps.com/graphql/public"
# GraphQL error codes that describe a passing condition on Wave's side.
TRANSIENT_CODES = frozenset(
    {
        "INTERNAL_SERVER_ERROR",
        "SERVICE_UNAVAILABLE",
        "TIMEOUT",
        "RATE_LIMITED",
        "TOO_MANY_REQUESTS",
        "THROTTLED",
    }
)
MAX_TOKEN_RENEWALS = 2


class WindowShifted(Exception):
    """The connection's totalCount changed between pages: offsets moved, a record may be missed."""


@dataclass
class RequestStats:
    """What one stream (or pass) cost: requests sent, retries made, records read."""

    requests: int = 0
    retries: int = 0
    records: int = 0


class WaveClient:
    """The tap's only way to reach Wave."""

    def __init__(
        self,
        *,
        api_url: str,
        tokens: AccessTokenSource,
        limiter: RequestLimiter,
        retry_policy: RetryPolicy,
        session: requests.Session | None = None,
        user_agent: str = "tap-wave",
        timeout: float = 120.0,
    ) -> None:
        self.api_url = api_url
        self._tokens = tokens
        self._limiter = limiter
        self._retry = retry_policy
        self._session = session or requests.Session()
        self._user_agent = user_agent
        self._timeout = timeout

    def execute(
        self,
        document: str,
        variables: Mapping[str, Any],
        *,
        operation: str,
        stats: RequestStats,
    ) -> dict[str, Any]:
        """Run one GraphQL operation and return its `data`; raise WaveAPIError if impossible."""
        retries = renewals = 0
        while True:
            token = self._tokens.token()
            try:
                with self._limiter:
                    stats.requests += 1
                    response = self._session.post(
                        self.api_url,
                        json={"query": document, "variables": dict(variables)},
                        headers={
                            "Authorization": f"Bearer {token}",
                            "User-Agent": self._user_agent,
                        },
                        timeout=self._timeout,
                    )
                return self._data(response, operation)
            except Unauthenticated:
                if renewals >= MAX_TOKEN_RENEWALS:
                    msg = f"{operation}: Wave keeps rejecting renewed access tokens"
                    raise WaveAPIError(msg) from None
                renewals += 1
                logger.info("%s: access token rejected by Wave; renewing it", operation)
                self._tokens.renew(token)
            except (
                TransientWaveError,
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                problem = _describe(exc)
                if retries >= self._retry.max_retries:
                    msg = (
                        f"{operation}: Wave still failing after {retries} retries "
                        f"({problem}); try again later or raise max_retries"
                    )
                    raise WaveAPIError(msg) from exc
                retries += 1
                stats.retries += 1
                wait = self._retry.delay(retries, getattr(exc, "retry_after", None))
                logger.warning(
                    "%s: %s; retry %d/%d in %.1fs",
                    operation,
                    problem,
                    retries,
                    self._retry.max_retries,
                    wait,
                )
                time.sleep(wait)

    def paginate(
        self,
        document: str,
        variables: Mapping[str, Any],
        *,
        connection: tuple[str, ...],
        page_size: int,
        operation: str,
        stats: RequestStats,
    ) -> Iterator[dict[str, Any]]:
        """Yield the nodes of a connection at `connection` (a path in `data`), page by page.

        Raises WindowShifted (after yielding that page) if the total changed while paging.
        """
        page, first_total = 1, None
        while True:
            data = self.execute(
                document,
                {**variables, "page": page, "pageSize": page_size},
                operation=operation,
                stats=stats,
            )
            found = _follow(data, connection, operation)
            for edge in found.get("edges") or []:
                node = edge.get("node") if edge else None
                if node is not None:
                    yield node
            info = found.get("pageInfo") or {}
            current, total = info.get("currentPage") or page, info.get("totalPages") or 0
            first_total = info.get("totalCount") if page == 1 else first_total
            if info.get("totalCount") != first_total:
                msg = f"{operation}: {first_total} records on page 1, {info.get('totalCount')} now"
                raise WindowShifted(msg)
            if current >= total:
                return
            if current != page:
                msg = f"{operation}: asked for page {page}, Wave answered page {current}"
                raise WaveAPIError(msg)
            page += 1

    def _data(self, response: requests.Response, operation: str) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            raise TransientWaveError(
                "HTTP 429 rate limited",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 500:
            raise TransientWaveError(f"HTTP {status}")
        if status == 401:
            raise Unauthenticated
        try:
            body = json.loads(response.content, parse_float=decimal.Decimal)
        except ValueError:
            if status != 200:
                msg = f"{operation}: Wave answered HTTP {status}: {response.text[:300]}"
                raise WaveAPIError(msg) from None
            raise TransientWaveError("HTTP 200 with a body that is not JSON") from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            _raise_for_graphql_errors(errors, operation)
        data = body.get("data") if isinstance(body, dict) else None
        if status != 200 or not isinstance(data, dict):
            msg = f"{operation}: Wave answered HTTP {status} without data"
            raise WaveAPIError(msg)
        return data


def _raise_for_graphql_errors(errors: list[dict[str, Any]], operation: str) -> None:
    codes = {((e.get("extensions") or {}).get("code") or "UNKNOWN") for e in errors}
    if "UNAUTHENTICATED" in codes:
        raise Unauthenticated
    summary = "; ".join(
        f"{(e.get('extensions') or {}).get('code', 'UNKNOWN')}: {e.get('message', '?')}"
        + (f" (at {'.'.join(str(p) for p in e['path'])})" if e.get("path") else "")
        for e in errors[:5]
    )
    if codes <= TRANSIENT_CODES:
        raise TransientWaveError(f"GraphQL errors {summary}")
    msg = f"{operation}: Wave answered with GraphQL errors: {summary}"
    if "NOT_FOUND" in codes:
        msg += " (is the business id right, and visible to this token?)"
        if codes == {"NOT_FOUND"}:
            raise NotFound(msg, paths=[tuple(e.get("path") or ()) for e in errors])
    raise WaveAPIError(msg)


def _follow(data: dict[str, Any], path: tuple[str, ...], operation: str) -> dict[str, Any]:
    found: Any = data
    for step in path:
        found = found.get(step) if isinstance(found, dict) else None
        if found is None:
            msg = f"{operation}: the answer has no {'.'.join(path)} (stopped at {step})"
            raise WaveAPIError(msg)
    if not isinstance(found, dict):
        msg = f"{operation}: {'.'.join(path)} in the answer is not an object"
        raise WaveAPIError(msg)
    return found


def _describe(exc: Exception) -> str:
    if isinstance(exc, TransientWaveError):
        return str(exc)
    return f"{type(exc).__name__} talking to Wave"
