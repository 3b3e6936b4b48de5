"""The relay's settings in one object, and reading the webhook secrets from the environment.

The defaults of every setting are defaults.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from webhook_relay import defaults
from webhook_relay.targeting import RunCommand
from webhook_relay.worker import WorkerSettings

SECRET_ENV = "WAVE_WEBHOOK_SECRET"
PREVIOUS_SECRET_ENV = "WAVE_WEBHOOK_SECRET_PREVIOUS"


class ConfigError(Exception):
    """A setting is missing or unusable; the message says which and what to do."""


def secrets_from_environment(environ: Mapping[str, str]) -> tuple[str, ...]:
    """(current, previous) webhook secrets; the previous one only during a rotation."""
    current = environ.get(SECRET_ENV, "").strip()
    if not current:
        raise ConfigError(
            f"{SECRET_ENV} is not set: export the webhook signing secret configured for this"
            f" endpoint in Wave (during a rotation also {PREVIOUS_SECRET_ENV} = the old one)"
        )
    previous = environ.get(PREVIOUS_SECRET_ENV, "").strip()
    return (current, previous) if previous and previous != current else (current,)


@dataclass(frozen=True)
class RelaySettings:
    db_path: Path
    meltano_project: Path
    secrets: tuple[str, ...]
    tolerance_seconds: int = defaults.TOLERANCE_SECONDS
    max_body_bytes: int = defaults.MAX_BODY_BYTES
    body_timeout_seconds: float = defaults.BODY_TIMEOUT_SECONDS
    header_timeout_seconds: float = defaults.HEADER_TIMEOUT_SECONDS
    max_connections: int = defaults.MAX_CONNECTIONS
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    run_command: RunCommand = field(default_factory=RunCommand)
    warm_start: bool = True  # start the next run's meltano ahead of time (warm_start.py)
    catalog_cache: bool = True  # discover the tap's catalog once (catalog_cache.py)

    @property
    def run_log_dir(self) -> Path:
        """Each run's output goes to ``<db dir>/run-logs/<run id>.log``."""
        return self.db_path.parent / "run-logs"
