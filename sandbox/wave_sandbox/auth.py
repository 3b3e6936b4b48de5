"""Bearer-token checks and Wave's OAuth2 refresh-token grant with rotation.

A full-access token always works and holds every scope; so do OAuth access tokens. Scoped
tokens (``--scoped-token``) never expire and hold only their own scopes (see ``scopes``). ``POST /oauth2/token/`` with ``grant_type=refresh_token``
returns a new access token (valid ``token_ttl`` seconds of *sandbox* time) and a new refresh token;
the refresh token just used stops working (``invalid_grant``), as Wave's rotate.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import SandboxClock
from .scopes import FULL_ACCESS

SCOPES = " ".join(sorted(FULL_ACCESS))


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    reason: str = ""  # why not, for the UNAUTHENTICATED message
    scopes: frozenset[str] = frozenset()  # what the token may do, when ok


@dataclass(frozen=True)
class OAuthSettings:
    access_token: str = "sandbox-token"
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    refresh_token: str = "sandbox-refresh"
    token_ttl: int = 7200


class TokenAuthority:
    """Issues, rotates and checks tokens."""

    def __init__(
        self,
        settings: OAuthSettings,
        clock: SandboxClock,
        user_id: str,
        business_id: str | None,
        scoped_tokens: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.settings, self.clock = settings, clock
        self.scoped_tokens = dict(scoped_tokens or {})
        self.user_id, self.business_id = user_id, business_id
        self._access: dict[str, datetime] = {}
        self._refresh: set[str] = {settings.refresh_token}
        self._lock = threading.Lock()

    def check_bearer(self, authorization: str | None) -> TokenCheck:
        if not authorization:
            return TokenCheck(
                False, "No Authorization header; send 'Authorization: Bearer <token>'."
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return TokenCheck(False, "The Authorization header must be 'Bearer <token>'.")
        if secrets.compare_digest(token, self.settings.access_token):
            return TokenCheck(True, scopes=FULL_ACCESS)
        for scoped, scopes in self.scoped_tokens.items():
            if secrets.compare_digest(token, scoped):
                return TokenCheck(True, scopes=scopes)
        with self._lock:
            expires = self._access.get(token)
        if expires is None:
            return TokenCheck(False, "The access token is not valid.")
        if self.clock.now() >= expires:
            return TokenCheck(False, "The access token has expired; refresh it.")
        return TokenCheck(True, scopes=FULL_ACCESS)

    def token_grant(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict]:
        """Answer ``POST /oauth2/token/``: (HTTP status, JSON body)."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
                client_id, _, client_secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                return 400, _oauth_error("invalid_request", "Malformed Basic credentials.")
        grant_type = form.get("grant_type")
        if grant_type is None:
            return 400, _oauth_error("invalid_request", "Missing grant_type.")
        if client_id != self.settings.client_id or client_secret != self.settings.client_secret:
            return 401, _oauth_error("invalid_client", "Unknown client_id or wrong client_secret.")
        if grant_type != "refresh_token":
            return 400, _oauth_error(
                "unsupported_grant_type",
                f"grant_type {grant_type!r} is not supported here; use refresh_token.",
            )
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return 400, _oauth_error("invalid_request", "Missing refresh_token.")
        with self._lock:
            if refresh_token not in self._refresh:
                return 400, _oauth_error(
                    "invalid_grant", "The refresh token is invalid, expired or already used."
                )
            self._refresh.discard(refresh_token)
            access_token = secrets.token_urlsafe(24)
            new_refresh = secrets.token_urlsafe(24)
            self._access[access_token] = self.clock.now() + timedelta(
                seconds=self.settings.token_ttl
            )
            self._refresh.add(new_refresh)
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.settings.token_ttl,
            "refresh_token": new_refresh,
            "scope": SCOPES,
            "userId": self.user_id,
            "businessId": self.business_id,
        }


def _oauth_error(error: str, description: str) -> dict:
    return {"error": error, "error_description": description}
