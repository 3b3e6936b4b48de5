"""One run's link to Wave, built from the settings: credentials, client, the run's businesses.

Shared by every stream of a run, so there is one token source, one limiter (one request at a
time, `requests_per_minute`), one sync start (the upper bound of every incremental window) and
one view of the relay's event store (`events_db`, bounded to the run's events).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from tap_wave import queries
from tap_wave.auth import DEFAULT_TOKEN_URL, AccessTokenSource, FullAccessToken, OAuthRefresher
from tap_wave.client import DEFAULT_API_URL, RequestStats, WaveClient
from tap_wave.errors import ConfigurationError
from tap_wave.event_store import EventStore
from tap_wave.pacing import RequestLimiter, RetryPolicy
from tap_wave.token_store import KEY_HELP, TokenStore

logger = logging.getLogger("tap-wave")
OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
FULL, EVENTS = "full", "events"
"""sync_mode values: the daily catch-up, or a relay run reading only what events name."""


def token_source(
    config: Mapping[str, Any], session: requests.Session, retry: RetryPolicy
) -> AccessTokenSource:
    """The credentials mode the settings ask for, checked for completeness."""
    oauth_given = [name for name in OAUTH_SETTINGS if config.get(name)]
    if config.get("access_token"):
        if oauth_given:
            msg = (
                "set either access_token or client_id/client_secret/refresh_token, not both "
                f"(found access_token and {', '.join(oauth_given)})"
            )
            raise ConfigurationError(msg)
        return FullAccessToken(config["access_token"])
    missing = [name for name in OAUTH_SETTINGS if not config.get(name)]
    if len(missing) == len(OAUTH_SETTINGS):
        msg = (
            "no Wave credentials: set access_token (a full-access token), or client_id, "
            "client_secret and refresh_token (OAuth)"
        )
        raise ConfigurationError(msg)
    if missing:
        msg = (
            f"OAuth needs client_id, client_secret and refresh_token; missing: {', '.join(missing)}"
        )
        raise ConfigurationError(msg)
    if not config.get("token_store_path"):
        msg = (
            "OAuth needs token_store_path: Wave rotates refresh tokens, and the current one "
            "must be kept (encrypted) between runs"
        )
        raise ConfigurationError(msg)
    key = config.get("token_key") or os.environ.get("TAP_WAVE_TOKEN_KEY")
    if not key:
        msg = f"OAuth needs a token store key; {KEY_HELP}"
        raise ConfigurationError(msg)
    return OAuthRefresher(
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        refresh_token=config["refresh_token"],
        store=TokenStore(config["token_store_path"], key),
        token_url=config.get("token_url") or DEFAULT_TOKEN_URL,
        session=session,
        retry_policy=retry,
    )


class WaveConnection:
    """Settings, client and business list of one run."""

    def __init__(self, config: Mapping[str, Any], *, user_agent: str = "tap-wave") -> None:
        self.sync_started_at = datetime.now(UTC)
        self.page_size = int(config.get("page_size") or 200)
        self.reconcile_deletes = bool(config.get("reconcile_deletes", True))
        self.reread_open_invoices = bool(config.get("reread_open_invoices", True))
        self._requested_ids = list(dict.fromkeys(config.get("business_ids") or []))
        self.sync_mode = config.get("sync_mode") or FULL
        self._events_db = config.get("events_db")
        if self.sync_mode == EVENTS and not self._events_db:
            msg = (
                "sync_mode is events, which reads the webhook relay's event store, but "
                "events_db is not set: set it to the relay's --db file, or use sync_mode full"
            )
            raise ConfigurationError(msg)
        retry = RetryPolicy(max_retries=int(config.get("max_retries", 6)))
        session = requests.Session()
        self.client = WaveClient(
            api_url=config.get("api_url") or DEFAULT_API_URL,
            tokens=token_source(config, session, retry),
            limiter=RequestLimiter(float(config.get("requests_per_minute") or 60)),
            retry_policy=retry,
            session=session,
            user_agent=user_agent,
        )
        self.discovery_stats = RequestStats()
        self._visible_count = 0

    @functools.cache  # noqa: B019 - one connection per run
    def businesses(self) -> list[dict[str, Any]]:
        """The Wave nodes of the run's businesses, in `business_ids` order when given."""
        visible = list(
            self.client.paginate(
                queries.document("businesses"),
                {},
                connection=("businesses",),
                page_size=self.page_size,
                operation="business discovery",
                stats=self.discovery_stats,
            )
        )
        self._visible_count = len(visible)
        if not self._requested_ids:
            return visible
        by_id = {node["id"]: node for node in visible}
        unknown = [b for b in self._requested_ids if b not in by_id]
        if unknown:
            msg = (
                f"business_ids: {', '.join(unknown)} is not a business this token can see "
                f"(it sees {len(visible)}: {', '.join(sorted(by_id)) or 'none'}); "
                "fix business_ids or use a token with access to that business"
            )
            raise ConfigurationError(msg)
        return [by_id[b] for b in dict.fromkeys(self._requested_ids)]

    @property
    def reads_every_business(self) -> bool:
        """Whether this run reads, in full mode, every business the token can see: only then is
        a full-table stream's version complete, so that a target may retire what it lacks."""
        if self.events_mode:
            return False
        return len(self.businesses()) == self._visible_count

    @property
    def events_mode(self) -> bool:
        return self.sync_mode == EVENTS

    @functools.cached_property
    def events(self) -> EventStore | None:
        """The relay's event store, read-only and bounded to this run (None without events_db)."""
        if not self._events_db:
            return None
        try:
            return EventStore.from_settings(self._events_db)
        except ConfigurationError as problem:
            if self.events_mode:
                raise
            logger.warning("%s; webhook_events and transactions are not read this run", problem)
            return None

    @property
    def business_ids(self) -> list[str]:
        """The run's businesses; in events mode those given, else those with events (no request)."""
        if self.events_mode:  # events_db is set (checked above), so the store is open
            store = self.events
            return self._requested_ids or (store.business_ids() if store else [])
        return [node["id"] for node in self.businesses()]
