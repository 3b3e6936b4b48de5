"""Reaching and authenticating to a Databricks SQL warehouse.

`Endpoint` turns the `server_hostname`/`http_path` settings into the connector's keyword
arguments: a plain host name means HTTPS (a real workspace); a value starting with `http://`
(the local simulator) means plain HTTP through the connector's `_connection_uri`, with telemetry
off (it would otherwise retry TLS to the host for half a minute).

`Credentials` is either a personal access token or a service principal (OAuth M2M through
databricks-sdk's `oauth_service_principal`). OAuth tokens come from a fresh SDK `Config` on
`renew()`: the adapter renews before a statement when the token is about to expire, and after
the workspace refused a token (revoked or expired early); a connection keeps the token source it
was opened with, so renewing also means reconnecting. Nothing is cached on disk, so a rotated
secret put in config is used by the next run.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from target_databricks_upsert.errors import TargetError
from target_databricks_upsert.warehouse.secrets import Secrets


class DatabricksConnectionError(TargetError):
    """The workspace cannot be reached."""


class DatabricksAuthError(TargetError):
    """The workspace refused the credentials."""


class Endpoint:
    """Where the SQL warehouse is: host, port, scheme and HTTP path."""

    def __init__(self, server_hostname: str, http_path: str) -> None:
        if not server_hostname or not http_path:
            raise TargetError(
                "warehouse databricks needs the settings server_hostname (e.g. "
                "adb-123.4.azuredatabricks.net) and http_path (e.g. /sql/1.0/warehouses/abc)"
            )
        parts = urlsplit(
            server_hostname if "://" in server_hostname else f"https://{server_hostname}"
        )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(f"setting server_hostname: {server_hostname!r} is not a host name")
        self.scheme = parts.scheme
        self.hostname = parts.hostname
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.netloc = parts.netloc
        self.http_path = "/" + http_path.lstrip("/")

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"server_hostname": self.netloc, "http_path": self.http_path}
        if self.scheme == "http" or self.port != 443:
            # The connector builds https://<host>:443/<path> itself; any other URL is given whole
            # (and telemetry, which goes to https://<host> on 443, is off).
            kwargs["_connection_uri"] = self.url + self.http_path
            kwargs["enable_telemetry"] = False
        return kwargs

    def check_reachable(self, timeout: float) -> None:
        """Fail fast, with one clear line, when nothing answers at host:port.

        Skipped behind an HTTP(S) proxy, where only the proxy can tell."""
        if any(
            os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
        ):
            return
        try:
            with socket.create_connection((self.hostname, self.port), timeout=timeout):
                return
        except OSError as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
            raise DatabricksConnectionError(
                f"cannot reach the Databricks workspace at {self.hostname}:{self.port} ({reason}, "
                f"within {timeout:g}s): check the server_hostname setting and that this machine "
                "can reach the workspace"
            ) from None


class Credentials:
    """A personal access token, or a service principal doing OAuth M2M."""

    def __init__(
        self, config: Mapping[str, Any], endpoint: Endpoint, secrets: Secrets, timeout: float
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.client_id = config.get("client_id")
        self._client_secret = secrets.reveal("client_secret", config.get("client_secret"))
        self._access_token = secrets.reveal("access_token", config.get("access_token"))
        self._scrub = secrets.scrub
        if not (self._access_token or (self.client_id and self._client_secret)):
            raise DatabricksAuthError(
                "warehouse databricks needs credentials: client_id + client_secret (a service "
                "principal) or access_token (a personal access token)"
            )
        self._provider = None
        self._lock = threading.Lock()
        self.generation = 0
        self.lifetime: float | None = None  # of the current OAuth token, when it was fetched

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self._client_secret)

    def describe(self) -> str:
        return f"service principal {self.client_id}" if self.oauth else "the personal access token"

    def connect_kwargs(self) -> dict[str, Any]:
        if not self.oauth:
            return {"access_token": self._access_token}
        with self._lock:
            if self._provider is None:
                self._renew_locked()
            provider = self._provider
        return {"credentials_provider": lambda: provider}

    def renew(self, seen_generation: int) -> None:
        """A fresh OAuth token source, unless another thread renewed since `seen_generation`."""
        if not self.oauth:
            return
        with self._lock:
            if self.generation == seen_generation:
                self._renew_locked()

    def expires_within(self, margin: float) -> bool:
        """Whether the OAuth token expires within `margin` seconds (at most 90% of its lifetime,
        so a token shorter-lived than the margin is not renewed before every statement)."""
        left = self.seconds_left()
        if left is None:
            return False
        return left < min(margin, 0.9 * (self.lifetime or margin))

    def seconds_left(self) -> float | None:
        """How long the current OAuth token stays valid (None for a PAT or before the first)."""
        provider = self._provider
        if provider is None:
            return None
        expiry = provider.oauth_token().expiry
        if expiry is None:
            return None
        return (expiry - dt.datetime.now(tz=expiry.tzinfo)).total_seconds()

    def _renew_locked(self) -> None:
        from databricks.sdk.core import Config, oauth_service_principal

        try:
            config = Config(
                host=self.endpoint.url,
                client_id=self.client_id,
                client_secret=self._client_secret,
                auth_type="oauth-m2m",
                http_timeout_seconds=self.timeout,
                retry_timeout_seconds=self.timeout,
            )
            provider = oauth_service_principal(config)
            if provider is None:
                raise ValueError(f"{self.endpoint.url} offers no OAuth endpoints")
            provider()  # fetch the token now: refused credentials fail here, not mid-load
        except Exception as exc:
            detail = self._scrub(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
            raise DatabricksAuthError(
                f"{self.endpoint.url} refused the OAuth token request of {self.describe()} "
                f"({detail}): check client_id and client_secret (after rotating the secret, put "
                "the new one in config)"
            ) from None
        self._provider = provider
        self.generation += 1
        self.lifetime = self.seconds_left()
