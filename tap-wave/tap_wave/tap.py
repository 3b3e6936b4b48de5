"""tap-wave: the settings, the stream list, and the command-line entry point."""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from pathlib import PurePath
from typing import Any

import click
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.tap_base import CliTestOptionValue
from typing_extensions import override

from tap_wave.auth import DEFAULT_TOKEN_URL
from tap_wave.client import DEFAULT_API_URL
from tap_wave.connection import EVENTS, FULL, WaveConnection
from tap_wave.connection_check import Verdict, check_connection
from tap_wave.errors import TapWaveError
from tap_wave.streams import STREAM_TYPES


class TapWave(Tap):
    """Singer tap for Wave Accounting: analytics-shaped, incremental per business."""

    name = "tap-wave"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "access_token",
            th.StringType,
            secret=True,
            title="Full-access token",
            description="A Wave full-access token (Manage Applications -> Create token). "
            "Use this, or the OAuth settings client_id, client_secret and refresh_token.",
        ),
        th.Property(
            "client_id",
            th.StringType,
            title="OAuth client ID",
            description="Client ID of your Wave application (OAuth mode).",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            title="OAuth client secret",
            description="Client secret of your Wave application (OAuth mode).",
        ),
        th.Property(
            "refresh_token",
            th.StringType,
            secret=True,
            title="OAuth refresh token",
            description="Refresh token from authorizing the app. Wave rotates it: the "
            "current one is kept in token_store_path; a new value set here after "
            "re-authorizing replaces the stored one.",
        ),
        th.Property(
            "token_url",
            th.StringType,
            default=DEFAULT_TOKEN_URL,
            title="Token URL",
            description="Wave's OAuth token endpoint.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=DEFAULT_API_URL,
            title="API URL",
            description="Wave's public GraphQL endpoint.",
        ),
        th.Property(
            "token_store_path",
            th.StringType,
            title="Token store path",
            description="File holding the current OAuth tokens, encrypted with "
            "token_key (required in OAuth mode). Runs sharing it share refreshes.",
        ),
        th.Property(
            "token_key",
            th.StringType,
            secret=True,
            title="Token store key",
            description="Fernet key encrypting the token store; or set the "
            "TAP_WAVE_TOKEN_KEY environment variable.",
        ),
        th.Property(
            "business_ids",
            th.ArrayType(th.StringType),
            title="Business IDs",
            description="Wave business ids to sync (default: every business the "
            "token can see). Other businesses' bookmarks are left untouched.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            description="Earliest modifiedAt to read on a business's first sync.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=200),
            default=200,
            title="Page size",
            description="Records per request (Wave allows 200).",
        ),
        th.Property(
            "requests_per_minute",
            th.IntegerType(minimum=1),
            default=60,
            title="Requests per minute",
            description="Client-side limit on requests to Wave (one at a time).",
        ),
        th.Property(
            "max_retries",
            th.IntegerType(minimum=0),
            default=6,
            title="Max retries",
            description="Retries of a failing request (429, 5xx, timeouts) before the run fails.",
        ),
        th.Property(
            "reconcile_deletes",
            th.BooleanType,
            default=True,
            title="Reconcile deletes",
            description="List all ids of customers, invoices and estimates each run "
            "and emit deletion records (_sdc_deleted_at; status DELETED for invoices "
            "and estimates) for those Wave deleted.",
        ),
        th.Property(
            "reread_open_invoices",
            th.BooleanType,
            default=True,
            title="Re-read open invoices",
            description="Re-read invoices whose status (e.g. OVERDUE) or payments "
            "changed without Wave updating modifiedAt.",
        ),
        th.Property(
            "events_db",
            th.StringType,
            title="Webhook event store",
            description="The webhook relay's event store (its --db SQLite file, or a "
            "file: URI), opened read-only. Source of webhook_events and transactions; "
            "read by sync_mode events.",
        ),
        th.Property(
            "sync_mode",
            th.StringType,
            default=FULL,
            allowed_values=[FULL, EVENTS],
            title="Sync mode",
            description="`full` (default): read every stream from Wave (the daily "
            "catch-up). `events`: read only what the new events in events_db name - each "
            "entity re-read by id, deletions recorded, modifiedAt bookmarks untouched "
            "(the relay's runs).",
        ),
        th.Property(
            "emit_activate_version_messages",
            th.BooleanType,
            default=False,
            title="Emit ACTIVATE_VERSION messages",
            description="Send ACTIVATE_VERSION for the full-table streams (accounts, "
            "businesses) on runs that read every business the token can see in full, "
            "so a target may retire rows Wave no longer has. Never sent on a run scoped "
            "by business_ids to fewer businesses, nor in events mode.",
        ),
    ).to_dict()

    @override
    def __init__(
        self,
        *,
        config: dict[str, Any] | PurePath | str | list[PurePath | str] | None = None,
        **options: Any,
    ) -> None:
        """The tap, with numbers given as text read as numbers (`"page_size": "50"`)."""
        if isinstance(config, dict):
            config = numbers_from_text(config, self.config_jsonschema)
        super().__init__(config=config, **options)

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_type(self) for stream_type in STREAM_TYPES]

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`--test`: check credentials, businesses and scopes without syncing, then print one
        line and exit 0 or 1 (connection_check.py). `--test=schema` is the SDK's."""
        if value != CliTestOptionValue.All.value:
            super().cb_test(ctx, param, value)
            return
        config = ctx.params["config"]
        try:
            tap = cls(config=config.config, parse_env_config=config.parse_env, validate_config=True)
        except ConfigValidationError as invalid:
            verdict = Verdict(False, f"{cls.name}: FAILED - settings: {'; '.join(invalid.errors)}")
        else:
            verdict = check_connection(tap.config, user_agent=f"tap-wave/{tap.plugin_version}")
        click.echo(verdict.line)
        ctx.exit(0 if verdict.passed else 1)

    @functools.cached_property
    def wave(self) -> WaveConnection:
        """The run's connection to Wave (built on first use: discovery needs none)."""
        return WaveConnection(self.config, user_agent=f"tap-wave/{self.plugin_version}")


def numbers_from_text(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`config` with integer and number settings given as text read as numbers.

    singer-sdk reads `TAP_WAVE_PAGE_SIZE=50` (--config=ENV) as a number itself; a config file or
    dict may hold `"50"` too. Text that is no number is left for validation to name.
    """
    properties = schema.get("properties", {})
    read = dict(config)
    for name, value in config.items():
        kinds = properties.get(name, {}).get("type", [])
        if isinstance(value, str) and {"integer", "number"} & set(kinds):
            with contextlib.suppress(ValueError):
                read[name] = int(value) if "integer" in kinds else float(value)
    return read


def main() -> None:
    """Console entry point: tap-wave errors end the run with one message and exit code 1.

    On the way out the interpreter's final garbage collection is skipped (``gc.freeze()``):
    everything is written by then, and the target waits for our stdout to close, which happens
    only after that collection (a tenth of a second of every webhook-targeted run)."""
    try:
        TapWave.cli()
    except TapWaveError as exc:
        sys.stderr.write(f"tap-wave: error: {exc}\n")
        sys.exit(1)
    finally:
        gc.freeze()
