"""The target: settings, capabilities, one sink per stream, and a lean per-record path.

Per record the target only applies stream maps (skipped when a stream has none), checks the key
properties are present and appends the record to its sink; validation, type parsing and flattening
happen per batch in the sink. The records of a BATCH message's files take the same path. STATE
is emitted by the SDK after `drain_all`, i.e. after every buffered record before it was committed
by its sink. An error of the target ends the CLI with one line and exit code 1 (`invoke`).

While it listens, objects that exist before the first record (the imported libraries) are frozen
out of Python's cyclic garbage collector and collections run less often: the records a batch
buffers would otherwise make every collection rescan them, which cost as much as decoding.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import gc
import sys
import threading
import uuid

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities, TargetCapabilities
from singer_sdk.mapper import SameRecordTransform

from target_databricks_upsert import __version__, sql
from target_databricks_upsert.batch_files import read_batch
from target_databricks_upsert.compat import override
from target_databricks_upsert.connection_check import test_option
from target_databricks_upsert.errors import InputError, SchemaError, TargetError
from target_databricks_upsert.reader import SingerInputReader, json_kind, utf8_stdin
from target_databricks_upsert.sink import UpsertSink
from target_databricks_upsert.tables import LOAD_AUDIT_TABLE
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
    th.Property(
        "warehouse",
        th.StringType,
        default="duckdb",
        allowed_values=["duckdb", "databricks"],
        description="Where to write: an embedded DuckDB file or a Databricks SQL warehouse.",
    ),
    th.Property(
        "duckdb_path",
        th.StringType,
        default="warehouse.duckdb",
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
        default="wave",
        description="Schema (Databricks: inside `catalog`) holding every table.",
    ),
    th.Property(
        "partition_column",
        th.StringType,
        default="business_id",
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
        default="cluster",
        allowed_values=["cluster", "partition"],
        description="Databricks tables: CLUSTER BY (business_id) or PARTITIONED BY (business_id).",
    ),
    th.Property(
        "inline_rows_max",
        th.IntegerType,
        default=100,
        description="Databricks: a table's batch of up to this many rows is sent inline "
        "(VALUES); larger ones are staged as Parquet in a volume.",
    ),
    th.Property(
        "staging_volume",
        th.StringType,
        default="target_staging",
        description="Databricks: volume (in catalog.schema, created if missing) holding "
        "staged Parquet files while they are merged.",
    ),
    th.Property(
        "connect_timeout_seconds",
        th.NumberType,
        default=15,
        description="Databricks: how long to wait for the workspace to answer when "
        "connecting or fetching an OAuth token.",
    ),
    th.Property(
        "retry_attempts",
        th.IntegerType,
        default=6,
        description="Databricks: attempts per statement on transient failures (HTTP "
        "429/503, Delta write conflicts, an expired token), with backoff.",
    ),
    th.Property(
        "token_refresh_margin_seconds",
        th.NumberType,
        default=300,
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
    message_reader_class = SingerInputReader
    capabilities = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.STRUCTURED_LOGGING,
        PluginCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.BATCH,
        TargetCapabilities.VALIDATE_RECORDS,
        TargetCapabilities.SOFT_DELETE,
        TargetCapabilities.HARD_DELETE,
    ]

    @classmethod
    @override
    def invoke(cls, *args, **kwargs) -> None:
        """The SDK's entry point; an error of this target ends the run with one line on stderr
        (`target-databricks-upsert: error: ...`) and exit code 1, without a traceback."""
        try:
            super().invoke(*args, **kwargs)
        except TargetError as exc:
            sys.stderr.write(f"{cls.name}: error: {' '.join(str(exc).split())}\n")
            sys.stderr.flush()
            sys.exit(1)

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
        self._ahead_error: Exception | None = None
        self.versions_seen: dict[str, dict] = {}
        self.versions_activated: dict[str, dict] = {}
        self.table_streams: dict[str, str] = {}  # table -> the stream writing it in this run
        # The schema's tables and columns as read once at the start of the run (and kept up to
        # date with what this run creates or adds): no metadata query per table.
        self.tables_found: dict[str, dict] = {}
        self._records_since_age_check = 0
        config = self.config
        namespace = (
            (config["catalog"], config.get("schema", "wave"))
            if (config.get("warehouse") == "databricks" and config.get("catalog"))
            else (config.get("schema", "wave"),)
        )
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
        """The connected warehouse (first use: connect, read every table's columns in one query,
        create the schema and `_load_audit` if they are not there)."""
        with self._warehouse_lock:
            if self._ahead_error is not None:  # what opening ahead met, raised where it is needed
                error, self._ahead_error = self._ahead_error, None
                raise error
            if self._warehouse is None:
                warehouse = open_warehouse(dict(self.config))
                self.tables_found = warehouse.existing_tables(sql.describe_tables(self.load))
                if LOAD_AUDIT_TABLE not in self.tables_found:
                    warehouse.execute_ddl(
                        [sql.create_schema(self.load), sql.create_load_audit(self.load)]
                    )
                self._warehouse = warehouse
            return self._warehouse

    def _open_ahead(self) -> None:
        try:
            self.warehouse  # noqa: B018 (connects and reads the metadata)
        except Exception as exc:  # the first sink to need the warehouse raises it
            self._ahead_error = exc

    def listen(self, file_input=None) -> None:
        stdin = utf8_stdin() if file_input is None else None
        try:
            with lean_arrow(), _relaxed_gc():  # (before another thread imports anything)
                if warehouse_class(dict(self.config)).opens_ahead:
                    threading.Thread(
                        target=self._open_ahead, name="open-warehouse", daemon=True
                    ).start()
                super().listen(stdin or file_input)
        finally:
            # Also on an error: a DuckDB connection left to the interpreter's shutdown, while a
            # sink's drain thread may still be inside it, aborted the process (SIGABRT).
            self._close_warehouse()
            if stdin is not None:
                stdin.detach()  # sys.stdin's buffer stays open

    def claim_tables(self, stream_name: str, tables: list[str]) -> None:
        """Refuse a stream whose tables another stream of this run writes (names that conform to
        the same table, e.g. `invoices` and `Invoices!`)."""
        for table in tables:
            owner = self.table_streams.setdefault(table, stream_name)
            if owner != stream_name:
                raise SchemaError(
                    f"streams {owner!r} and {stream_name!r} would both write the table "
                    f"{'.'.join((*self.load.namespace, table))} (names become snake_case "
                    f"[a-z0-9_]): give one of them another name with a stream map "
                    f'(stream_maps: {{{stream_name!r}: {{"__alias__": "..."}}}}) and rerun. '
                    f"Nothing of stream {stream_name!r} was written."
                )

    def _process_schema_message(self, message_dict: dict) -> None:
        super()._process_schema_message(message_dict)
        gc.freeze()  # what the new sink imported and set up lives as long as the run

    def _process_record_message(self, message_dict: dict) -> None:
        stream_name, raw = message_dict.get("stream"), message_dict.get("record")
        if stream_name is None or raw.__class__ is not dict:
            self._refuse_record(message_dict)
        self._buffer_record(
            stream_name, raw, message_dict.get("time_extracted"), message_dict.get("version")
        )

    def _refuse_record(self, message_dict: dict) -> None:
        self._assert_line_requires(message_dict, requires={"stream", "record"})
        stream, record = message_dict["stream"], message_dict["record"]
        where = f"line {self.message_reader.line_number} of the input"
        if not isinstance(stream, str):
            raise InputError(f"{where}: the RECORD's stream is not a string ({json_kind(stream)})")
        raise InputError(
            f"{stream}: {where}: the RECORD's record is a JSON {json_kind(record)}, not an "
            "object. Nothing from the batch it was in was written and the state was not "
            "advanced; fix the tap's output and rerun."
        )

    def _buffer_record(self, stream_name: str, raw: dict, time_extracted, version) -> None:
        """The per-record path shared by RECORD messages and BATCH files: stream maps, the key
        check, buffering, and a drain when the sink is full."""
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
            if sink.buffer(record, time_extracted, version):
                self.logger.info(
                    "Target sink for '%s' is full (%s records); writing the batch",
                    sink.stream_name,
                    sink.current_size,
                )
                self.drain_one(sink)
        self._records_since_age_check += 1
        if self._records_since_age_check >= AGE_CHECK_EVERY:
            self._records_since_age_check = 0
            self._handle_max_record_age()

    def _process_batch_message(self, message_dict: dict) -> None:
        """BATCH: the records of the manifest's files take the RECORD path (stream maps, key
        check, buffering, bulk validation, MERGE), so they get the same guarantees: STATE only
        after they are committed, newer-wins on `_sequence` (extraction time: the file's
        modification time, see batch_files.py), a rerun writes the same rows."""
        self._assert_line_requires(message_dict, requires={"stream", "encoding", "manifest"})
        stream_name = message_dict["stream"]
        if stream_name not in self.mapper.stream_maps:
            self._assert_sink_exists(stream_name)
        where = f"line {self.message_reader.line_number} of the input"
        version = message_dict.get("version")
        properties = list(self.mapper.stream_maps[stream_name][0].raw_schema.get("properties", {}))
        batch_config = self.config.get("batch_config")
        for extracted_at, records in read_batch(message_dict, where, batch_config, properties):
            for record in records:
                self._buffer_record(stream_name, record, extracted_at, version)

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
        self._close_warehouse()

    def _close_warehouse(self) -> None:
        with self._warehouse_lock:
            if self._warehouse is not None:
                self._warehouse.close()
                self._warehouse = None


if __name__ == "__main__":
    TargetDatabricksUpsert.cli()
