"""The tap's error types: each one ends a run with a single message saying what to do."""

from __future__ import annotations


class TapWaveError(Exception):
    """An error the tap reports as one clear message (no traceback) before exiting."""


class ConfigurationError(TapWaveError):
    """The settings are incomplete or inconsistent."""


class ReauthorizationRequired(TapWaveError):
    """Wave refused the refresh token (invalid_grant): the user must authorize the app again."""


class TokenStoreError(TapWaveError):
    """The encrypted token store cannot be read with the configured key, or is damaged."""


class WaveAPIError(TapWaveError):
    """Wave answered with an error the tap cannot retry, or kept failing after every retry."""


class NotFound(WaveAPIError):
    """Wave answered NOT_FOUND only; `paths` name the fields it could not resolve."""

    def __init__(self, message: str, *, paths: list[tuple[str | int, ...]]) -> None:
        super().__init__(message)
        self.paths = paths


class TransientWaveError(Exception):
    """A failure worth retrying (HTTP 429/5xx, timeouts, transient GraphQL error codes)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthenticated(Exception):
    """Wave rejected the access token (HTTP 401 or GraphQL UNAUTHENTICATED)."""
