"""The target: settings, capabilities, one sink per stream, and a lean per-record path.

Per record the target only applies stream maps (skipped when a stream has none), checks the key
properties are present and appends the record to its sink; validation, type parsing and flattening
happen per batch in the sink. STATE is emitted by the SDK after `drain_all`, i.e. after every
buffered record before it was committed by its sink.

While it listens, objects that exist before the first record (the imported libraries) are frozen
out of Python's cyclic garbage collector and collections run less often: the records a batch
buffers would otherwise make every collection rescan them, which cost as much as decoding.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import gc
import threading
import uuid

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.helpers.capabilities import PluginCapabilities, TargetCapabilities
from singer_sdk.mapper import SameRecordTransform

from target_databricks_upsert import __version__, sql
from target_databricks_upsert.connection_check import test_option
from target_databricks_upsert.sink import UpsertSink
from target_databricks_upsert.validate import lean_arrow
from target_databricks_upsert.warehouse import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    Warehouse,
    open_warehouse,
    warehouse_class,
)

AGE_CHECK_EVERY = 1000
"""Records between two checks of the SDK's max record age (a clock read per record is wasted)."""
GC_FIRST_GENERATION = 20_000
"""Allocations between two young-generation collections while listening (Python's default: 700)."""

SETTINGS = th.PropertiesList(
    th.Property("warehouse", th.StringType, default="duckdb", allowed_values=["duckdb", "databricks"],
                description="Where to write: an embedded DuckDB file or a Databricks SQL warehouse."),
    th.Property("duckdb_path", th.StringType, default="warehouse.duckdb",
                description="DuckDB database file (warehouse=duckdb)."),
    th.Property("duckdb_memory_limit", th.StringType, default=DEFAULT_DUCKDB_MEMORY_LIMIT,
                description="DuckDB memory_limit (warehouse=duckdb); bounds the engine's cache."),
    th.Property("schema", th.StringType, default="wave",
                description="Schema (Databricks: inside `catalog`) holding every table."),
    th.Property("partition_column", th.StringType, default="business_id",
                description="Column that scopes rows to a tenant: _load_audit.business_id and the "
                            "ACTIVATE_VERSION fence use it when a stream has it ('' otherwise)."),
    th.Property("tap_version", th.StringType,
                description="Version of the tap feeding this run, recorded in _load_audit."),
    th.Property("load_method", th.StringType, default="upsert", allowed_values=["upsert"],
                description="Always `upsert`: an idempotent MERGE on each stream's key "
                            "(streams without a key are appended)."),
    th.Property("server_hostname", th.StringType, description="Databricks workspace host name."),
    th.Property("http_path", th.StringType, description="Databricks SQL warehouse HTTP path."),
    th.Property("catalog", th.StringType, description="Databricks Unity Catalog catalog."),
    th.Property("client_id", th.StringType, description="Databricks service principal id (OAuth M2M)."),
    th.Property("client_secret", th.StringType, secret=True,
                description="Databricks service principal secret (OAuth M2M); `enc:<token>` = "
                            "encrypted with the Fernet key in TARGET_DATABRICKS_UPSERT_SECRET_KEY."),
    th.Property("access_token", th.StringType, secret=True,
                description="Databricks personal access token (instead of client_id/secret); "
                            "may be `enc:<token>` too."),
    th.Property("table_layout", th.StringType, default="cluster", allowed_values=["cluster", "partition"],
                description="Databricks tables: CLUSTER BY (business_id) or PARTITIONED BY (business_id)."),
    th.Property("inline_rows_max", th.IntegerType, default=100,
                description="Databricks: a table's batch of up to this many rows is sent inline "
                            "(VALUES); larger ones are staged as Parquet in a volume."),
    th.Property("staging_volume", th.StringType, default="target_staging",
                description="Databricks: volume (in catalog.schema, created if missing) holding "
                            "staged Parquet files while they are merged."),
    th.Property("connect_timeout_seconds", th.NumberType, default=15,
                description="Databricks: how long to wait for the workspace to answer when "
                            "connecting or fetching an OAuth token."),
    th.Property("retry_attempts", th.IntegerType, default=6,
                description="Databricks: attempts per statement on transient failures (HTTP "
                            "429/503, Delta write conflicts, an expired token), with backoff."),
    th.Property("token_refresh_margin_seconds", th.NumberType, default=300,
                description="Databricks OAuth: renew the token before a statement when it expires "
                            "within this many seconds."),
    th.Property("hard_delete", th.BooleanType, default=False,
                description="ACTIVATE_VERSION deletes rows missing from the new version instead of "
                            "marking them _is_deleted."),
)


@contextlib.contextmanager
def _relaxed_gc():
    """Objects alive before the records (the imported libraries) are frozen out of the cyclic
    garbage collector, and young-generation collections run less often."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], GC_FIRST_GENERATION), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _is_identity(stream_map) -> bool:
    """Whether a stream map passes records through unchanged (no maps configured, no flattening)."""
    return type(stream_map) is SameRecordTransform and not stream_map.flattening_enabled


class TargetDatabricksUpsert(Target):
    """Singer target that MERGEs records into Databricks Delta tables or a DuckDB file."""

    name = "target-databricks-upsert"
    config_jsonschema = SETTINGS.to_dict()
    default_sink_class = UpsertSink
    message_reader_class = MsgSpecReader
    capabilities = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.STRUCTURED_LOGGING,
        PluginCapabilities.ACTIVATE_VERSION,
        TargetCapabilities.VALIDATE_RECORDS,
        TargetCapabilities.SOFT_DELETE,
        TargetCapabilities.HARD_DELETE,
    ]

    @classmethod
    def get_singer_command(cls):
        """The SDK's command line plus `--test`, the connection check (connection_check.py)."""
        command = super().get_singer_command()
        command.params.append(test_option(cls))
        return command

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._warehouse: Warehouse | None = None
        self._warehouse_lock = threading.Lock()
        self.versions_seen: dict[str, dict] = {}
        self._records_since_age_check = 0
        config = self.config
        namespace = (config["catalog"], config.get("schema", "wave")) if (
            config.get("warehouse") == "databricks" and config.get("catalog")
        ) else (config.get("schema", "wave"),)
        self.load = sql.Load(
            namespace=namespace,
            load_id=str(uuid.uuid4()),
            started_at=dt.datetime.now(tz=dt.UTC).isoformat(),
            target_version=__version__,
            tap_version=config.get("tap_version"),
            table_layout=config.get("table_layout", "cluster"),
            dialect=warehouse_class(config).dialect,
        )

    @property
    def warehouse(self) -> Warehouse:
        """The connected warehouse, with the schema and `_load_audit` created (first use)."""
        with self._warehouse_lock:
            if self._warehouse is None:
                warehouse = open_warehouse(dict(self.config))
                warehouse.execute_ddl([sql.create_schema(self.load), sql.create_load_audit(self.load)])
                self._warehouse = warehouse
            return self._warehouse

    def listen(self, file_input=None) -> None:
        with lean_arrow(), _relaxed_gc():
            super().listen(file_input)

    def _process_schema_message(self, message_dict: dict) -> None:
        super()._process_schema_message(message_dict)
        gc.freeze()  # what the new sink imported and set up lives as long as the run

    def _process_record_message(self, message_dict: dict) -> None:
        stream_name, raw = message_dict.get("stream"), message_dict.get("record")
        if stream_name is None or raw is None:
            self._assert_line_requires(message_dict, requires={"stream", "record"})
        stream_maps = self.mapper.stream_maps.get(stream_name)
        if stream_maps is None:
            self._assert_sink_exists(stream_name)
        unmapped = len(stream_maps) == 1 and _is_identity(stream_maps[0])
        for stream_map in stream_maps:
            record = raw if unmapped else stream_map.transform(copy.copy(raw))
            if record is None:
                continue
            try:
                sink = self.get_sink(stream_map.stream_alias)
            except KeyError:
                self._assert_sink_exists(stream_map.stream_alias)
                raise
            if not sink.key_set <= record.keys():
                sink._singer_validate_message(record)  # raises MissingKeyPropertiesError
            if sink.buffer(record, message_dict.get("time_extracted"), message_dict.get("version")):
                self.logger.info("Target sink for '%s' is full (%s records); writing the batch",
                                 sink.stream_name, sink.current_size)
                self.drain_one(sink)
        self._records_since_age_check += 1
        if self._records_since_age_check >= AGE_CHECK_EVERY:
            self._records_since_age_check = 0
            self._handle_max_record_age()

    def _process_activate_version_message(self, message_dict: dict) -> None:
        stream_name = message_dict["stream"]
        for stream_map in self.mapper.stream_maps[stream_name]:
            sink = self.get_sink(stream_map.stream_alias)
            if not sink.process_activate_version_messages:
                self.logger.warning("ACTIVATE_VERSION ignored for %s (disabled)", sink.stream_name)
                continue
            for earlier in [*self._sinks_to_clear, sink]:
                if earlier.stream_name == sink.stream_name:
                    self.drain_one(earlier)
            sink.activate_version(message_dict["version"])

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None


if __name__ == "__main__":
    TargetDatabricksUpsert.cli()
