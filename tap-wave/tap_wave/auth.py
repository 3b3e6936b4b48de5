"""Access tokens for Wave: a fixed full-access token, or OAuth with rotating refresh tokens.

Both kinds answer `token()` (a token to send now) and `renew(rejected)` (Wave said the token
is no longer valid: get another one, once). OAuth tokens are refreshed `refresh_margin` seconds
before they expire, under the token store's lock, so two runs sharing a store perform one
refresh and both use its result instead of burning each other's refresh token.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import requests

from tap_wave.errors import ReauthorizationRequired, WaveAPIError
from tap_wave.pacing import RetryPolicy, parse_retry_after
from tap_wave.token_store import StoredTokens, TokenStore, fingerprint

logger = logging.getLogger("tap-wave.auth")

DEFAULT_TOKEN_URL = "https://api.waveapps.com/oauth2/token/"
REAUTHORIZE = (
    "Authorize the Wave application again (OAuth authorization code flow), put the new refresh "
    "token in the refresh_token setting (TAP_WAVE_REFRESH_TOKEN) and run again."
)


class AccessTokenSource(Protocol):
    def token(self) -> str: ...

    def renew(self, rejected: str) -> str: ...


class FullAccessToken:
    """A Wave full-access token from config; it cannot be renewed."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def token(self) -> str:
        return self._token

    def renew(self, rejected: str) -> str:
        msg = (
            "Wave rejected the access_token (UNAUTHENTICATED). It may have been revoked: create "
            "a new full-access token in Wave (Manage Applications) and update access_token."
        )
        raise WaveAPIError(msg)


class OAuthRefresher:
    """OAuth refresh-token grant against `token_url`, persisting every rotation in the store."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        store: TokenStore,
        token_url: str = DEFAULT_TOKEN_URL,
        session: requests.Session | None = None,
        retry_policy: RetryPolicy | None = None,
        refresh_margin: float = 300.0,
        timeout: float = 60.0,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._config_refresh_token = refresh_token
        self._store = store
        self._token_url = token_url
        self._session = session or requests.Session()
        self._retry = retry_policy or RetryPolicy()
        self._margin = refresh_margin
        self._timeout = timeout
        self._current: StoredTokens | None = None
        self.refreshes = 0

    def token(self) -> str:
        if self._current is None or not self._current.access_token_usable():
            self._current = self._fresh_tokens(rejected=None)
        assert self._current.access_token
        return self._current.access_token

    def renew(self, rejected: str) -> str:
        self._current = self._fresh_tokens(rejected=rejected)
        assert self._current.access_token
        return self._current.access_token

    def _starting_point(self) -> StoredTokens:
        """The store's tokens, unless config carries a refresh token the store never saw."""
        config_print = fingerprint(self._config_refresh_token)
        stored = self._store.load()
        if stored is not None and stored.config_refresh_fingerprint == config_print:
            return stored
        if stored is not None:
            logger.info("refresh_token in config is new (re-authorized): it replaces the store")
        return StoredTokens(
            refresh_token=self._config_refresh_token, config_refresh_fingerprint=config_print
        )

    def _fresh_tokens(self, rejected: str | None) -> StoredTokens:
        with self._store.lock():
            tokens = self._starting_point()
            usable = tokens.access_token_usable() and tokens.access_token != rejected
            if usable:
                return tokens  # another run (or an earlier refresh) already renewed it
            requested_at = time.time()
            answer = self._post_refresh(tokens.refresh_token)
            lifetime = float(answer.get("expires_in") or 3600)
            renewed = StoredTokens(
                refresh_token=answer.get("refresh_token") or tokens.refresh_token,
                config_refresh_fingerprint=tokens.config_refresh_fingerprint,
                access_token=answer["access_token"],
                expires_at=requested_at + lifetime,
                # renew `margin` early, but never before a quarter of a short lifetime is used
                renew_after=requested_at + lifetime - min(self._margin, lifetime / 4),
            )
            self._store.save(renewed)
            self.refreshes += 1
            logger.info("refreshed the Wave access token (valid %ss)", answer.get("expires_in"))
            return renewed

    def _post_refresh(self, refresh_token: str) -> dict[str, Any]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        for attempt in range(self._retry.max_retries + 1):
            retry_after = None
            try:
                response = self._session.post(self._token_url, data=form, timeout=self._timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{type(exc).__name__}"
            else:
                if response.status_code == 200:
                    answer = response.json()
                    if not isinstance(answer, dict) or "access_token" not in answer:
                        msg = f"token endpoint {self._token_url} answered without access_token"
                        raise WaveAPIError(msg)
                    return answer
                if response.status_code < 500 and response.status_code != 429:
                    raise self._refusal(response)
                problem = f"HTTP {response.status_code}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt < self._retry.max_retries:
                wait = self._retry.delay(attempt + 1, retry_after)
                logger.warning("token refresh failed (%s); retry in %.1fs", problem, wait)
                time.sleep(wait)
        msg = (
            f"token endpoint {self._token_url} kept failing ({problem}) after "
            f"{self._retry.max_retries} retries; try again later"
        )
        raise WaveAPIError(msg)

    def _refusal(self, response: requests.Response) -> Exception:
        try:
            error = response.json().get("error", "")
        except ValueError:
            error = ""
        if error == "invalid_grant":
            return ReauthorizationRequired(
                f"Wave refused the refresh token (invalid_grant): it was revoked, expired or "
                f"already used. {REAUTHORIZE}"
            )
        if error in ("invalid_client", "unauthorized_client"):
            return WaveAPIError(
                f"Wave refused the OAuth client ({error}): check client_id and client_secret."
            )
        return WaveAPIError(
            f"token endpoint {self._token_url} answered HTTP {response.status_code} "
            f"({error or 'no error code'}); check client_id, client_secret and token_url."
        )
