"""Who may use the warehouse: a personal access token, and OAuth M2M tokens issued to a service
principal by the client-credentials grant at ``/oidc/v1/token``, as a Databricks workspace does.

OAuth access tokens are JWTs (signed with a per-process key) carrying ``iss``/``exp`` like
Databricks' own, so the connector's token cache sees the real expiry. A token that is unknown,
badly signed, expired, or issued before the last "expire all tokens" fault is refused.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass

import jwt


@dataclass
class Refusal:
    """Why a request's credentials were refused (HTTP status and Databricks' reason phrase)."""

    status: int
    reason: str


class TokenError(Exception):
    """A token request refused with an OAuth error (RFC 6749 section 5.2)."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class Authority:
    """Issues and checks the warehouse's credentials."""

    def __init__(
        self,
        *,
        issuer: str,
        pat: str,
        client_id: str,
        client_secret: str,
        token_ttl: int = 3600,
        pat_user: str | None = None,
    ):
        self.issuer = issuer
        self.pat = pat
        self.pat_user = pat_user or client_id  # a PAT belongs to a user or service principal
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._not_before = 0.0  # tokens issued before this instant are expired
        self.issued = 0

    def expire_all(self) -> None:
        """Make every OAuth token issued so far expired (the token-expiry fault)."""
        with self._lock:
            self._not_before = time.time()

    def issue(self, form: dict[str, str], authorization: str | None) -> dict:
        """Answer a client-credentials token request as ``/oidc/v1/token`` does."""
        if form.get("grant_type") != "client_credentials":
            raise TokenError(
                400,
                "unsupported_grant_type",
                f"grant_type {form.get('grant_type')!r} is not supported; use client_credentials",
            )
        client_id, client_secret = _basic_credentials(authorization)
        client_id = client_id or form.get("client_id")
        client_secret = client_secret or form.get("client_secret")
        if client_id != self.client_id or client_secret != self.client_secret:
            raise TokenError(401, "invalid_client", "Client authentication failed")
        scopes = set((form.get("scope") or "").split())
        if "all-apis" not in scopes:
            raise TokenError(
                400, "invalid_scope", f"scope {form.get('scope')!r} must include all-apis"
            )
        now = time.time()
        with self._lock:
            self.issued += 1
        token = jwt.encode(
            {
                "iss": self.issuer,
                "sub": client_id,
                "client_id": client_id,
                "scope": "all-apis",
                "iat": int(now),
                "exp": int(now + self.token_ttl),
                "jti": secrets.token_hex(8),
                "issued_at": now,
            },
            self._key,
            algorithm="HS256",
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "scope": "all-apis",
            "expires_in": self.token_ttl,
        }

    def check(self, authorization: str | None) -> Refusal | None:
        """None if the request may proceed, else how Databricks refuses it."""
        if not authorization:
            return Refusal(
                401, "Credential was not sent or was of an unsupported type for this API."
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return Refusal(
                401, "Credential was not sent or was of an unsupported type for this API."
            )
        if secrets.compare_digest(token, self.pat):
            return None
        try:
            claims = jwt.decode(
                token, self._key, algorithms=["HS256"], options={"verify_exp": False}
            )
        except jwt.PyJWTError:
            return Refusal(403, "Invalid access token.")
        with self._lock:
            revoked = claims.get("issued_at", 0) < self._not_before
        if revoked or claims.get("exp", 0) <= time.time():
            return Refusal(403, "Invalid access token. Token is expired.")
        return None

    def principal(self, authorization: str) -> str:
        """Who an accepted credential (see :meth:`check`) belongs to: the personal access
        token's user, or the service principal an OAuth token was issued to."""
        token = authorization.partition(" ")[2]
        if secrets.compare_digest(token, self.pat):
            return self.pat_user
        claims = jwt.decode(token, self._key, algorithms=["HS256"], options={"verify_exp": False})
        return str(claims.get("sub", ""))


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:]).decode()
    except ValueError:
        return None, None
    user, _, password = decoded.partition(":")
    return user, password
