"""The target's settings: their defaults, read by the target and the warehouse adapters alike,
and the JSON Schema the SDK validates a config against (`--about` lists it).
"""

from __future__ import annotations

from singer_sdk import typing as th

DEFAULT_WAREHOUSE = "duckdb"
DEFAULT_DUCKDB_PATH = "warehouse.duckdb"
DEFAULT_DUCKDB_MEMORY_LIMIT = "48MB"
"""DuckDB's memory limit. With the adapter's frequent checkpoints, a re-sync of 1,000,000
invoices (every batch an update) runs in 48MB; 40MB ran out."""
DEFAULT_SCHEMA = "wave"
DEFAULT_PARTITION_COLUMN = "business_id"
DEFAULT_TABLE_LAYOUT = "cluster"
DEFAULT_INLINE_ROWS_MAX = 100
"""Databricks: batches of a table up to this many rows are sent inline as VALUES; larger ones as
Parquet."""
DEFAULT_STAGING_VOLUME = "target_staging"
DEFAULT_CONNECT_TIMEOUT_SECONDS = 15
DEFAULT_RETRY_ATTEMPTS = 6
DEFAULT_TOKEN_REFRESH_MARGIN_SECONDS = 300

SETTINGS = th.PropertiesList(
    th.Property(
        "warehouse",
        th.StringType,
        default=DEFAULT_WAREHOUSE,
        allowed_values=["duckdb", "databricks"],
        description="Where to write: an embedded DuckDB file or a Databricks SQL warehouse.",
    ),
    th.Property(
        "duckdb_path",
        th.StringType,
        default=DEFAULT_DUCKDB_PATH,
        description="DuckDB database file (warehouse=duckdb).",
    ),
    th.Property(
        "duckdb_memory_limit",
        th.StringType,
        default=DEFAULT_DUCKDB_MEMORY_LIMIT,
        description="DuckDB memory_limit (warehouse=duckdb); bounds the engine's cache.",
    ),
    th.Property(
        "schema",
        th.StringType,
        default=DEFAULT_SCHEMA,
        description="Schema (Databricks: inside `catalog`) holding every table.",
    ),
    th.Property(
        "partition_column",
        th.StringType,
        default=DEFAULT_PARTITION_COLUMN,
        description="Column that scopes rows to a tenant: _load_audit.business_id and the "
        "ACTIVATE_VERSION fence use it when a stream has it ('' otherwise).",
    ),
    th.Property(
        "tap_version",
        th.StringType,
        description="Version of the tap feeding this run, recorded in _load_audit.",
    ),
    th.Property(
        "load_method",
        th.StringType,
        default="upsert",
        allowed_values=["upsert"],
        description="Always `upsert`: an idempotent MERGE on each stream's key "
        "(streams without a key are appended).",
    ),
    th.Property("server_hostname", th.StringType, description="Databricks workspace host name."),
    th.Property("http_path", th.StringType, description="Databricks SQL warehouse HTTP path."),
    th.Property("catalog", th.StringType, description="Databricks Unity Catalog catalog."),
    th.Property(
        "client_id", th.StringType, description="Databricks service principal id (OAuth M2M)."
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        description="Databricks service principal secret (OAuth M2M); `enc:<token>` = "
        "encrypted with the Fernet key in TARGET_DATABRICKS_UPSERT_SECRET_KEY.",
    ),
    th.Property(
        "access_token",
        th.StringType,
        secret=True,
        description="Databricks personal access token (instead of client_id/secret); "
        "may be `enc:<token>` too.",
    ),
    th.Property(
        "table_layout",
        th.StringType,
        default=DEFAULT_TABLE_LAYOUT,
        allowed_values=["cluster", "partition"],
        description="Databricks tables: CLUSTER BY (business_id) or PARTITIONED BY (business_id).",
    ),
    th.Property(
        "inline_rows_max",
        th.IntegerType,
        default=DEFAULT_INLINE_ROWS_MAX,
        description="Databricks: a table's batch of up to this many rows is sent inline "
        "(VALUES); larger ones are staged as Parquet in a volume.",
    ),
    th.Property(
        "staging_volume",
        th.StringType,
        default=DEFAULT_STAGING_VOLUME,
        description="Databricks: volume (in catalog.schema, created if missing) holding "
        "staged Parquet files while they are merged.",
    ),
    th.Property(
        "connect_timeout_seconds",
        th.NumberType,
        default=DEFAULT_CONNECT_TIMEOUT_SECONDS,
        description="Databricks: how long to wait for the workspace to answer when "
        "connecting or fetching an OAuth token.",
    ),
    th.Property(
        "retry_attempts",
        th.IntegerType,
        default=DEFAULT_RETRY_ATTEMPTS,
        description="Databricks: attempts per statement on transient failures (HTTP "
        "429/503, Delta write conflicts, an expired token), with backoff.",
    ),
    th.Property(
        "token_refresh_margin_seconds",
        th.NumberType,
        default=DEFAULT_TOKEN_REFRESH_MARGIN_SECONDS,
        description="Databricks OAuth: renew the token before a statement when it expires "
        "within this many seconds.",
    ),
    th.Property(
        "hard_delete",
        th.BooleanType,
        default=False,
        description="ACTIVATE_VERSION deletes rows missing from the new version instead of "
        "marking them _is_deleted.",
    ),
)
