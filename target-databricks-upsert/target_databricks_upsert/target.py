"""The target: capabilities, one sink per stream, and a lean per-record path.

Per record the target only applies stream maps (skipped when a stream has none), checks the key
properties are present and appends the record to its sink; validation, type parsing and flattening
happen per batch in the sink. The records of a BATCH message's files take the same path. STATE
is emitted by the SDK after `drain_all`, i.e. after every buffered record before it was committed
by its sink. An error of the target ends the CLI with one line and exit code 1 (`invoke`). Its
settings are in `settings.py`; how the process is set up for a long run in `runtime.py`.

The SDK has no public hook for a record's path, a BATCH message or an ACTIVATE_VERSION message,
nor for wrapping a whole run, so those overrides (`_process_record_message`,
`_process_batch_message`, `_process_activate_version_message`, `listen`) and the one private
SDK method called (`_handle_max_record_age`) are pinned by `tests/test_sdk_seams.py`, which fails
naming what to re-check when singer-sdk changes them.
"""

from __future__ import annotations

import copy
import datetime as dt
import sys
import threading
import typing
import uuid
from typing import IO, Any

import click
from singer_sdk import Target
from singer_sdk.exceptions import RecordsWithoutSchemaException
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
    TargetCapabilities,
)
from singer_sdk.mapper import SameRecordTransform, StreamMap

from target_databricks_upsert import __version__, sql
from target_databricks_upsert.batch_files import read_batch
from target_databricks_upsert.compat import override
from target_databricks_upsert.connection_check import test_option
from target_databricks_upsert.errors import InputError, SchemaError, TargetError
from target_databricks_upsert.reader import SingerInputReader, json_kind, utf8_stdin
from target_databricks_upsert.runtime import lean_arrow, relaxed_gc
from target_databricks_upsert.settings import DEFAULT_SCHEMA, DEFAULT_TABLE_LAYOUT, SETTINGS
from target_databricks_upsert.sink import UpsertSink
from target_databricks_upsert.table_spec import LOAD_AUDIT_TABLE
from target_databricks_upsert.warehouse import Warehouse, open_warehouse, warehouse_class
from target_databricks_upsert.warehouse.base import Column

AGE_CHECK_EVERY = 1000
"""Records between two checks of the SDK's max record age (a clock read per record is wasted)."""


def _is_identity(stream_map: StreamMap) -> bool:
    """Whether a stream map passes records through unchanged (no maps configured, no flattening)."""
    return type(stream_map) is SameRecordTransform and not stream_map.flattening_enabled


class TargetDatabricksUpsert(Target):
    """Singer target that MERGEs records into Databricks Delta tables or a DuckDB file."""

    name = "target-databricks-upsert"
    config_jsonschema = SETTINGS.to_dict()
    default_sink_class = UpsertSink
    message_reader_class = SingerInputReader
    message_reader: SingerInputReader
    capabilities: typing.ClassVar[list[CapabilitiesEnum]] = [
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
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """The SDK's entry point; an error of this target ends the run with one line on stderr
        (`target-databricks-upsert: error: ...`) and exit code 1, without a traceback."""
        try:
            super().invoke(*args, **kwargs)
        except TargetError as exc:
            sys.stderr.write(f"{cls.name}: error: {' '.join(str(exc).split())}\n")
            sys.stderr.flush()
            sys.exit(1)

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command line plus `--test`, the connection check (connection_check.py)."""
        command = super().get_singer_command()
        command.params.append(test_option(cls))
        return command

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._warehouse: Warehouse | None = None
        self._warehouse_lock = threading.Lock()
        self._ahead_error: Exception | None = None
        # Per stream: version -> (businesses it covered, its lowest _sequence), and version ->
        # the businesses whose rows of older versions were retired already (`UpsertSink`).
        self.versions_seen: dict[str, dict[int, tuple[set[str], int]]] = {}
        self.versions_activated: dict[str, dict[int, set[str]]] = {}
        self.table_streams: dict[str, str] = {}  # table -> the stream writing it in this run
        # Per stream (alias), its sinks in this run, oldest first: a schema change makes a new one
        # while the old one still holds records until it is drained.
        self.stream_sinks: dict[str, list[UpsertSink]] = {}
        # The schema's tables and columns as read once at the start of the run (and kept up to
        # date with what this run creates or adds): no metadata query per table.
        self.tables_found: dict[str, dict[str, Column]] = {}
        self._records_since_age_check = 0
        config = self.config
        namespace = (
            (config["catalog"], config.get("schema", DEFAULT_SCHEMA))
            if (config.get("warehouse") == "databricks" and config.get("catalog"))
            else (config.get("schema", DEFAULT_SCHEMA),)
        )
        self.load = sql.Load(
            namespace=namespace,
            load_id=str(uuid.uuid4()),
            started_at=dt.datetime.now(tz=dt.UTC).isoformat(),
            target_version=__version__,
            tap_version=config.get("tap_version"),
            table_layout=config.get("table_layout", DEFAULT_TABLE_LAYOUT),
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

    # singer-sdk marks listen final; nothing else wraps a whole run (pinned by test_sdk_seams)
    @override  # type: ignore[misc]
    def listen(self, file_input: IO[str] | None = None) -> None:
        """The SDK's run over the input, read as UTF-8 (`reader.utf8_stdin`), with the process set
        up for a long run (`runtime`), the warehouse opened ahead where that saves a round trip,
        and the warehouse closed whatever happens."""
        stdin = utf8_stdin() if file_input is None else None
        try:
            with lean_arrow(), relaxed_gc():  # (before another thread imports anything)
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

    @override
    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        """A RECORD: stream maps, the key check and buffering only (`_buffer_record`); the SDK's
        per-record validation, datetime parsing and metadata happen per batch in the sink."""
        stream_name, raw = message_dict.get("stream"), message_dict.get("record")
        if stream_name is None or raw.__class__ is not dict:
            self._refuse_record(message_dict)
        self._buffer_record(
            typing.cast(str, stream_name),
            typing.cast(dict[str, Any], raw),
            message_dict.get("time_extracted"),
            message_dict.get("version"),
        )

    def _refuse_record(self, message_dict: dict[str, Any]) -> typing.NoReturn:
        self.message_reader.assert_line_requires(message_dict, requires={"stream", "record"})
        stream, record = message_dict["stream"], message_dict["record"]
        where = f"line {self.message_reader.line_number} of the input"
        if not isinstance(stream, str):
            raise InputError(f"{where}: the RECORD's stream is not a string ({json_kind(stream)})")
        raise InputError(
            f"{stream}: {where}: the RECORD's record is a JSON {json_kind(record)}, not an "
            "object. Nothing from the batch it was in was written and the state was not "
            "advanced; fix the tap's output and rerun."
        )

    def _buffer_record(
        self,
        stream_name: str,
        raw: dict[str, Any],
        time_extracted: str | None,
        version: object,
    ) -> None:
        """The per-record path shared by RECORD messages and BATCH files: stream maps, the key
        check, buffering, and a drain when the sink is full."""
        stream_maps = self.mapper.stream_maps.get(stream_name)
        if stream_maps is None:
            raise _without_schema(stream_name)
        unmapped = len(stream_maps) == 1 and _is_identity(stream_maps[0])
        for stream_map in stream_maps:
            record = raw if unmapped else stream_map.transform(copy.copy(raw))
            if record is None:
                continue
            try:
                sink = typing.cast(UpsertSink, self.get_sink(stream_map.stream_alias))
            except KeyError:
                raise _without_schema(stream_map.stream_alias) from None
            if not sink.key_set <= record.keys():
                raise sink.missing_key(record)
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

    @override
    def _process_batch_message(self, message_dict: dict[str, Any]) -> None:
        """BATCH: the records of the manifest's files take the RECORD path (stream maps, key
        check, buffering, bulk validation, MERGE), so they get the same guarantees: STATE only
        after they are committed, newer-wins on `_sequence` (extraction time: the file's
        modification time, see batch_files.py), a rerun writes the same rows."""
        self.message_reader.assert_line_requires(
            message_dict, requires={"stream", "encoding", "manifest"}
        )
        stream_name = message_dict["stream"]
        stream_maps = self.mapper.stream_maps.get(stream_name)
        if stream_maps is None:
            raise _without_schema(stream_name)
        where = f"line {self.message_reader.line_number} of the input"
        version = message_dict.get("version")
        properties = list(stream_maps[0].raw_schema.get("properties", {}))
        batch_config = self.config.get("batch_config")
        for extracted_at, records in read_batch(message_dict, where, batch_config, properties):
            for record in records:
                self._buffer_record(stream_name, record, extracted_at, version)

    @override
    def _process_activate_version_message(self, message_dict: dict[str, Any]) -> None:
        """ACTIVATE_VERSION: the stream's records read before it are written first (its sinks
        drained, an older one a schema change replaced included), then its older rows retired.
        Unlike the SDK's, no warning about `_sdc_deleted_at` (the target keeps its own columns)."""
        stream_name = message_dict["stream"]
        for stream_map in self.mapper.stream_maps[stream_name]:
            sink = typing.cast(UpsertSink, self.get_sink(stream_map.stream_alias))
            if not sink.process_activate_version_messages:
                self.logger.warning("ACTIVATE_VERSION ignored for %s (disabled)", sink.stream_name)
                continue
            sinks = self.stream_sinks.setdefault(sink.stream_name, [sink])
            for earlier in sinks:
                self.drain_one(earlier)
            sinks[:] = [sink]  # the older ones hold nothing now
            sink.activate_version(message_dict["version"])

    @override
    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self._close_warehouse()

    def _close_warehouse(self) -> None:
        with self._warehouse_lock:
            if self._warehouse is not None:
                self._warehouse.close()
                self._warehouse = None


def _without_schema(stream_name: str) -> RecordsWithoutSchemaException:
    """The SDK's error for a record of a stream no SCHEMA message has declared."""
    return RecordsWithoutSchemaException(
        f"A record for stream '{stream_name}' was encountered before a corresponding schema. "
        "Check that the Tap correctly implements the Singer spec."
    )


if __name__ == "__main__":
    TargetDatabricksUpsert.cli()
