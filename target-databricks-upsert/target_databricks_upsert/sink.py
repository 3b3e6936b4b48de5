"""One stream's sink: the life of a batch is validate -> flatten -> dedupe -> MERGE -> audit.

Records are buffered as parsed (the target's fast path skips the SDK's per-record validation and
datetime parsing) and converted to Arrow every 1000; `process_batch` validates, flattens and
dedupes column-wise and commits the batch's statements in one transaction, so the SDK emits STATE
only after the covered rows are committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.sinks import BatchSink

from target_databricks_upsert import batch_sql, runtime, sql
from target_databricks_upsert.compat import override
from target_databricks_upsert.errors import SchemaEvolutionError
from target_databricks_upsert.flatten import (
    BatchMeta,
    audit_columns,
    flatten_batch,
    for_staging,
    newest_per_key,
)
from target_databricks_upsert.settings import DEFAULT_PARTITION_COLUMN
from target_databricks_upsert.table_spec import TableSpec
from target_databricks_upsert.tables import check_not_reserved, stream_tables
from target_databricks_upsert.validate import CompiledValidator, RecordLocator, records_to_arrow
from target_databricks_upsert.warehouse.base import Column

if TYPE_CHECKING:
    from target_databricks_upsert.target import TargetDatabricksUpsert

CHUNK_RECORDS = 1000
"""Parsed records are converted to Arrow every this many, to keep a batch's memory small."""


class UpsertSink(BatchSink):
    """Writes one stream's records to its root table and child tables."""

    def __init__(
        self,
        target: TargetDatabricksUpsert,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.warehouse = target.warehouse
        self.tables_found: dict[str, dict[str, Column]] = target.tables_found
        self.load: sql.Load = target.load
        super().__init__(target, stream_name, schema, key_properties)
        self.root: TableSpec = stream_tables(
            stream_name,
            self.schema,
            list(self.key_properties),
            self.config.get("partition_column") or DEFAULT_PARTITION_COLUMN,
        )
        check_not_reserved(stream_name, self.root)
        target.claim_tables(stream_name, [t.name for t in [self.root, *self.root.descendants()]])
        self.key_set = frozenset(self.key_properties)
        # Where the warehouse says appending is cheaper (DuckDB), a batch of keys no table has
        # yet is appended rather than MERGEd, after a cheap count of existing rows.
        self._append_new_keys = bool(self.root.key) and self.warehouse.appends_new_keys
        self._stage_prefix = f"stage_{uuid.uuid4().hex[:10]}"
        self._compiled: CompiledValidator | None = None
        self._reset_buffer()
        self._arrivals = 0
        # version -> (businesses it covered, its lowest _sequence); shared by every sink of the stream
        self.versions_seen: dict[int, tuple[set[str], int]] = target.versions_seen.setdefault(
            stream_name, {}
        )
        # version -> the businesses whose rows of older versions were retired already
        self.versions_activated: dict[int, set[str]] = target.versions_activated.setdefault(
            stream_name, {}
        )
        target.stream_sinks.setdefault(self.stream_name, []).append(self)

    @override
    def get_validator(self) -> None:
        """No per-record jsonschema validation: batches are validated in bulk."""
        return None

    # Set-up: tables exist and match the schema before the first record is buffered.

    @override
    def setup(self) -> None:
        if self.config.get("validate_records", True) and self.root.needs_full_validation:
            self._compiled = CompiledValidator(self.schema)
        for table in [self.root, *self.root.descendants()]:
            self._ensure_table(table)
        runtime.settle()  # what this sink set up lives as long as the run

    def _ensure_table(self, table: TableSpec) -> None:
        """The table exists with every column the schema wants (read from the run's one metadata
        query, `target.tables_found`, kept up to date with what is created or added here)."""
        existing = self.tables_found.get(table.name)
        if not existing:
            self.warehouse.execute_ddl([sql.create_table(self.load, table)])
            self.tables_found[table.name] = {
                c: Column(t, c not in table.key) for c, t in table.all_columns
            }
            return
        self._check_key(table, {c for c, column in existing.items() if not column.nullable})
        wanted = table.all_columns
        clashes = [
            (c, existing[c].type, t) for c, t in wanted if c in existing and existing[c].type != t
        ]
        if clashes:
            detail = "; ".join(
                f"{c} is {old} but the schema now says {new}" for c, old, new in clashes
            )
            raise SchemaEvolutionError(
                f"stream {self.stream_name}: table {'.'.join(self.load.namespace)}.{table.name}: "
                f"{detail}. The target never casts silently: migrate the column in the warehouse "
                "(or rename the field with a stream map) and rerun."
            )
        missing = [(c, t) for c, t in wanted if c not in existing]
        if missing:
            self.logger.info("Adding columns %s to %s", [c for c, _ in missing], table.name)
            self.warehouse.execute_ddl(sql.add_columns(self.load, table.name, missing))
            existing.update({c: Column(t, True) for c, t in missing})

    def _check_key(self, table: TableSpec, existing_key: set[str]) -> None:
        """A table keeps the key it was created with (its NOT NULL columns): MERGEs on another
        key would let two rows share the new key."""
        if existing_key == set(table.key):
            return
        order = {c: n for n, (c, _) in enumerate(table.all_columns)}
        old = ", ".join(sorted(existing_key, key=lambda c: (order.get(c, len(order)), c)))
        raise SchemaEvolutionError(
            f"stream {self.stream_name}: table {'.'.join(self.load.namespace)}.{table.name} is "
            f"keyed on ({old}) but the SCHEMA message's key_properties make its key "
            f"({', '.join(table.key)}). The target never re-keys a table (rows loaded under the "
            "old key could share the new one): send the old key_properties (a stream map's "
            "__key_properties__ can restore them), load the stream under another name (a stream "
            "map's __alias__), or migrate the table yourself, and rerun. Nothing was written "
            "under the new key."
        )

    # Buffering: called by the target's fast path for every record.

    def _reset_buffer(self) -> None:
        self.records: list[dict[str, Any]] = []  # parsed, not yet converted (at most CHUNK_RECORDS)
        self.chunks: list[pa.StructArray] = []  # converted and validated
        self.converted = 0
        self.time_extracted: list[str | None] = []
        self.versions: list[object] = []
        self.batch_started_at: dt.datetime | None = None

    def buffer(self, record: dict[str, Any], time_extracted: str | None, version: object) -> bool:
        """Append a parsed record to the batch; True when the batch is full."""
        self._append(record, time_extracted, version)
        self.tally_record_read()
        return self.is_full

    def _append(self, record: dict[str, Any], time_extracted: str | None, version: object) -> None:
        if self.batch_started_at is None:
            self.batch_started_at = dt.datetime.now(tz=dt.UTC)
        records = self.records
        records.append(record)
        self.time_extracted.append(time_extracted)
        self.versions.append(version)
        if len(records) >= CHUNK_RECORDS:
            self._convert_pending()

    def _convert_pending(self) -> None:
        """Validate and convert the parsed records to Arrow, and let the dicts go: a batch is
        held as compact Arrow chunks, so memory is bounded by the batch size, not dict overhead."""
        if not self.records:
            return
        locator = RecordLocator(
            self.stream_name, self.records, list(self.key_properties), offset=self.converted
        )
        if self._compiled is not None:
            self._compiled.check(self.records, locator)
        self.chunks.append(records_to_arrow(self.records, self.root, locator))
        self.converted += len(self.records)
        self.records = []

    def missing_key(self, record: dict[str, Any]) -> MissingKeyPropertiesError:
        """The SDK's error for a record without one of the stream's key properties."""
        return MissingKeyPropertiesError(
            f"Record is missing one or more key_properties. \n"
            f"Key Properties: {list(self.key_properties)}, Record Keys: {list(record.keys())}"
        )

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """The SDK's per-record path (not used by the target's fast path) buffers too."""
        self._append(record, None, None)

    # The batch.

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        handed = context.get("records")  # the SDK's own batch-file reader hands records here
        for record in handed or ():
            self._append(record, None, None)
        self._convert_pending()
        first_arrival, self._arrivals = self._arrivals, self._arrivals + len(self.versions)
        chunks, meta = (
            self.chunks,
            BatchMeta(
                self.time_extracted,
                self.versions,
                first_arrival,
                self.batch_started_at or dt.datetime.now(tz=dt.UTC),
            ),
        )
        self._reset_buffer()
        if not chunks:
            return
        struct = pa.concat_arrays(chunks)
        del chunks
        locator = RecordLocator(self.stream_name, struct, list(self.key_properties))
        tables = flatten_batch(self.root, struct, audit_columns(struct, meta, locator), locator)
        tables, superseded = newest_per_key(self.root, tables)
        if superseded:
            self.tally_duplicate_merged(superseded)
        if not handed:  # the SDK counted the records it handed over
            self.record_counter_metric.increment(struct.__len__())
        self._remember_versions(tables[self.root.name])
        self._write(tables)

    def _write(self, tables: dict[str, pa.Table]) -> None:
        sources, staged = {}, []
        try:
            for name, rows in tables.items():
                if rows.num_rows:
                    stage_name = f"{self._stage_prefix}_{name}"
                    sources[name] = self.warehouse.stage(stage_name, for_staging(rows))
                    staged.append(stage_name)
            if self.root.name in sources:
                all_new = (
                    self._append_new_keys
                    and not self.warehouse.query(
                        batch_sql.rows_of_batch_keys(self.load, self.root, sources[self.root.name])
                    )[0][0]
                )
                if self.load.dialect.counts_first:
                    counted = self.warehouse.query(
                        batch_sql.batch_counts(self.load, self.root, sources, all_new)
                    )
                    steps = batch_sql.counted_steps(self.load, self.root, sources, counted, all_new)
                else:
                    steps = batch_sql.batch_steps(self.load, self.root, sources, all_new)
                self.warehouse.execute_steps(steps)
        finally:
            self.warehouse.unstage_all(staged)

    def _remember_versions(self, root_rows: pa.Table) -> None:
        """Which businesses (and from which _sequence on) each table version has covered."""
        partition = self.root.partition_column
        columns = ["_table_version", "_sequence"] + ([partition] if partition else [])
        rows = root_rows.select(columns).filter(root_rows["_table_version"].is_valid())
        if not rows.num_rows:
            return
        groups = ["_table_version"] + ([partition] if partition else [])
        for group in rows.group_by(groups).aggregate([("_sequence", "min")]).to_pylist():
            version = group["_table_version"]
            businesses, first = self.versions_seen.get(version, (set(), group["_sequence_min"]))
            if partition:
                businesses.add(str(group[partition]))
            self.versions_seen[version] = (businesses, min(first, group["_sequence_min"]))

    # ACTIVATE_VERSION (the target drains this sink first).
    #
    # singer-sdk taps send ACTIVATE_VERSION *before* a version's records (once per partition, i.e.
    # per business here), other taps after them. So a version's rows are retired for the
    # businesses whose records of it have arrived by the message, and at the end of the input
    # (`clean_up`, before the final STATE) for the rest; never twice for one business.

    @override
    def activate_version(self, new_version: int) -> None:
        self.versions_activated.setdefault(new_version, set())
        self._retire(new_version)

    @override
    def clean_up(self) -> None:
        for version in sorted(self.versions_activated):
            if version not in self.versions_seen:
                self.logger.warning(
                    "ACTIVATE_VERSION %s for %s: no record of this version was loaded in this "
                    "run, so no row is retired (an empty full sync never deletes).",
                    version,
                    self.stream_name,
                )
                continue
            self._retire(version)
        super().clean_up()

    def _retire(self, version: int) -> None:
        seen = self.versions_seen.get(version)
        if seen is None:
            return
        businesses, first_sequence = seen
        done = self.versions_activated[version]
        if self.root.partition_column:
            fence: list[str] | None = sorted(businesses - done)
            if not fence:
                return
        elif done:
            return
        else:
            fence = None
        steps: list[list[str]] = [[], []]
        for table in [self.root, *self.root.descendants()]:
            audit, change = batch_sql.retire_old_versions(
                self.load,
                table,
                version,
                first_sequence,
                fence,
                hard_delete=bool(self.config.get("hard_delete", False)),
            )
            steps[0] += audit
            steps[1] += change
        self.warehouse.execute_steps(steps)
        done.update(fence if fence is not None else {"*"})
