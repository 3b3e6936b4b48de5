"""`tap-wave --test`: prove the settings can sync, without syncing anything.

The checks run in order and stop at the first that fails:

1. reach: Wave's API (and, in OAuth mode, the token endpoint) answers at all;
2. credentials: the full-access token is accepted, or the OAuth refresh works; a refresh rotates
   the refresh token, and the new one is saved in the token store exactly as in a run;
3. businesses: the token sees at least one business, and every id in `business_ids`;
4. scopes: one record of each stream, read with the stream's own GraphQL document from the
   run's first business; a refusal names the OAuth scope the stream needs.

The outcome is one line - `tap-wave: OK - ...` or `tap-wave: FAILED - <what is wrong and what to
do>` - and whether it passed (the exit code).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from tap_wave import queries
from tap_wave.auth import DEFAULT_TOKEN_URL, AccessTokenSource, OAuthRefresher
from tap_wave.client import DEFAULT_API_URL, RequestStats, WaveClient
from tap_wave.connection import token_source
from tap_wave.errors import ReauthorizationRequired, TapWaveError, WaveAPIError
from tap_wave.pacing import RequestLimiter, RetryPolicy
from tap_wave.streams import BusinessesStream, read_from_wave, scope_of, stream_scopes

PREFIX = "tap-wave"
REACH_TIMEOUT = 15.0
CHECK_RETRIES = 2
"""Retries per request during the check: a check answers in seconds, not after a minute of back-off."""
NAMES_SHOWN = 10

BUSINESS_SCOPE = scope_of(BusinessesStream)
STREAM_SCOPES = stream_scopes()
"""The OAuth scope each stream read from Wave needs (Wave's `resource:operation` names), as the
stream classes declare it."""

_REFUSAL = re.compile(
    r"\b(FORBIDDEN|UNAUTHORIZED|PERMISSION_DENIED|ACCESS_DENIED|INSUFFICIENT_SCOPE|"
    r"NOT_AUTHORIZED|HTTP 403)\b|\bscopes?\b|\bpermissions?\b|not authori[sz]ed",
    re.IGNORECASE,
)
"""How a refusal for lack of a scope reads in the client's error messages."""


class CheckFailed(Exception):
    """One check failed; the message is the whole verdict after `FAILED - `."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    line: str


def check_connection(config: Mapping[str, Any], *, user_agent: str = PREFIX) -> Verdict:
    """Run every check against the Wave account the settings point at."""
    try:
        summary = _run_checks(config, user_agent)
    except CheckFailed as failure:
        return Verdict(False, f"{PREFIX}: FAILED - {failure}")
    except TapWaveError as problem:  # settings, token store: the tap's own words
        return Verdict(False, f"{PREFIX}: FAILED - {problem}")
    return Verdict(True, f"{PREFIX}: OK - {summary}")


def _run_checks(config: Mapping[str, Any], user_agent: str) -> str:
    api_url = config.get("api_url") or DEFAULT_API_URL
    retry = RetryPolicy(max_retries=min(int(config.get("max_retries", 6)), CHECK_RETRIES))
    session = requests.Session()
    tokens = WatchedTokens(token_source(config, session, retry))
    oauth = isinstance(tokens.source, OAuthRefresher)
    _check_reachable(session, api_url, "api_url")
    if oauth:
        _check_reachable(session, config.get("token_url") or DEFAULT_TOKEN_URL, "token_url")
    _check_credentials(tokens)
    client = WaveClient(
        api_url=api_url,
        tokens=tokens,
        retry_policy=retry,
        session=session,
        limiter=RequestLimiter(float(config.get("requests_per_minute") or 60)),
        user_agent=user_agent,
    )
    visible = _visible_businesses(client, tokens, int(config.get("page_size") or 200))
    run_ids = _check_business_ids(visible, list(config.get("business_ids") or []))
    _check_streams(client, tokens, run_ids[0], visible[run_ids[0]])
    return (
        f"{_credentials_phrase(tokens, oauth)}, "
        f"{_businesses_phrase(visible, config.get('business_ids'))}, every stream readable"
    )


class WatchedTokens:
    """A token source that remembers whether Wave rejected one of its tokens."""

    def __init__(self, source: AccessTokenSource) -> None:
        self.source = source
        self.rejected = False

    def token(self) -> str:
        return self.source.token()

    def renew(self, rejected: str) -> str:
        self.rejected = True
        return self.source.renew(rejected)


def _check_reachable(session: requests.Session, url: str, setting: str) -> None:
    """Any HTTP answer will do: this only tells "nothing answers" from everything else."""
    try:
        session.get(url, timeout=REACH_TIMEOUT)
    except requests.RequestException as exc:
        msg = (
            f"cannot reach {url}: {unreachable_reason(exc)}; check the {setting} setting, "
            "the network and any proxy (HTTPS_PROXY)"
        )
        raise CheckFailed(msg) from None


def unreachable_reason(exc: BaseException) -> str:
    """Why a request got no HTTP answer, in a few words (`connection refused`, ...)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {REACH_TIMEOUT:g} s"
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        cause = pending.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, TimeoutError):
            return f"no answer within {REACH_TIMEOUT:g} s"
        if isinstance(cause, BaseException):
            pending.extend(
                [cause.__cause__, cause.__context__, getattr(cause, "reason", None), *cause.args]
            )
    return type(exc).__name__


def _check_credentials(tokens: WatchedTokens) -> None:
    """Get a token now (OAuth: refresh unless the store holds a usable one)."""
    try:
        tokens.token()
    except ReauthorizationRequired:
        msg = (
            "the refresh token was rejected (invalid_grant: revoked, expired or already "
            "used): re-authorize the Wave app and set TAP_WAVE_REFRESH_TOKEN (refresh_token) "
            "to the new refresh token"
        )
        raise CheckFailed(msg) from None
    except WaveAPIError as problem:
        raise CheckFailed(f"OAuth refresh failed: {problem}") from None


def _credentials_phrase(tokens: WatchedTokens, oauth: bool) -> str:
    """What the check proved about the credentials (after every request it made)."""
    if not oauth or not isinstance(tokens.source, OAuthRefresher):
        return "access token valid"
    if tokens.source.refreshes:
        return "OAuth refresh works (the rotated refresh token is saved in the token store)"
    return "OAuth access token from the token store valid"


def _visible_businesses(
    client: WaveClient, tokens: WatchedTokens, page_size: int
) -> dict[str, str]:
    """{business id: name} of every business the token sees."""
    try:
        nodes = list(
            client.paginate(
                queries.document("businesses"),
                {},
                connection=("businesses",),
                page_size=page_size,
                operation="business list",
                stats=RequestStats(),
            )
        )
    except WaveAPIError as problem:
        raise _read_failure(problem, tokens, "the business list", BUSINESS_SCOPE) from None
    if not nodes:
        msg = (
            "the token sees no business: authorize the app for a business (Wave grants OAuth "
            "access only to businesses on Wave Pro or Wave Advisor)"
        )
        raise CheckFailed(msg)
    return {node["id"]: node.get("name") or node["id"] for node in nodes}


def _check_business_ids(visible: dict[str, str], requested: list[str]) -> list[str]:
    """The run's business ids; every requested one must be visible."""
    unknown = [
        business_id for business_id in dict.fromkeys(requested) if business_id not in visible
    ]
    if unknown:
        sees = ", ".join(f"{name} ({business_id})" for business_id, name in visible.items())
        msg = (
            f"business id {', '.join(unknown)} not visible to this token (it sees "
            f"{len(visible)}: {sees}): fix business_ids or authorize the app for that business"
        )
        raise CheckFailed(msg)
    return list(dict.fromkeys(requested)) or list(visible)


def _check_streams(
    client: WaveClient, tokens: WatchedTokens, business_id: str, business_name: str
) -> None:
    """One record of every stream read from Wave; all refused scopes are named at once."""
    missing: list[str] = []
    for stream_type in read_from_wave():  # not businesses (read already) nor event streams
        try:
            client.execute(
                queries.document(stream_type.document_name("query_name")),
                {"businessId": business_id, "page": 1, "pageSize": 1},
                operation=f"{stream_type.name} of {business_name}",
                stats=RequestStats(),
            )
        except WaveAPIError as problem:
            scope = scope_of(stream_type)
            if tokens.rejected or not _REFUSAL.search(str(problem)):
                raise _read_failure(
                    problem, tokens, f"{stream_type.name} of {business_name}", scope
                ) from None
            missing.append(scope)
    if missing:
        msg = (
            f"missing scope{'s' if len(missing) > 1 else ''}: {' '.join(missing)} - "
            "authorize the Wave app again with these scopes and set the new refresh token"
        )
        raise CheckFailed(msg)


def _read_failure(
    problem: WaveAPIError, tokens: WatchedTokens, what: str, scope: str
) -> CheckFailed:
    if tokens.rejected:  # the token sources' own words say which token and what to do
        return CheckFailed(str(problem))
    if _REFUSAL.search(str(problem)):
        return CheckFailed(f"missing scope: {scope} - Wave refused to read {what} ({problem})")
    return CheckFailed(f"cannot read {what}: {problem}")


def _businesses_phrase(visible: dict[str, str], requested: list[str] | None) -> str:
    names = list(visible.values())
    shown = ", ".join(names[:NAMES_SHOWN]) + (
        f", and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    )
    phrase = f"{len(names)} business{'es' if len(names) != 1 else ''} visible ({shown})"
    if requested:
        phrase += f", all {len(set(requested))} in business_ids among them"
    return phrase
