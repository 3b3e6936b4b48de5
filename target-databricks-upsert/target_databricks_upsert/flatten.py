"""Typed Arrow records -> one Arrow table per warehouse table, column-wise.

Nested objects become prefixed columns, lists of objects become child-table rows (keyed by their
parent's key and a 1-based `line_number`), and every row gets the staged audit columns
(`_extracted_at`, `_sequence`, `_is_deleted`, `_deleted_at`, `_table_version`). Children inherit
the audit values of their parent record. Duplicates of a key within a batch are reduced to the
newest (highest `_sequence`, then last to arrive).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from target_databricks_upsert.column_types import BIGINT, TIMESTAMP
from target_databricks_upsert.table_spec import LINE_NUMBER, Child, Leaf, Node, Obj, TableSpec
from target_databricks_upsert.validate import RecordLocator, finalize, parse_timestamps

ROOT_INDEX = "__root"
"""Hidden column: position of the row's root record in the batch (for errors and dedupe)."""

ARRIVALS_PER_MICROSECOND = 1000
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
MIN_MICROS = -(-BIGINT_MIN // ARRIVALS_PER_MICROSECOND)
MAX_MICROS = (BIGINT_MAX - (ARRIVALS_PER_MICROSECOND - 1)) // ARRIVALS_PER_MICROSECOND
"""Extraction times (epoch microseconds) whose derived `_sequence` fits a BIGINT: 1677-09-21
to 2262-04-11. A time outside is an error, never a wrapped-around sequence."""


@dataclass
class BatchMeta:
    """Per-record facts from the Singer messages rather than from the records."""

    time_extracted: list[str | None]  # message time_extracted (ISO string) or None
    versions: list[object]  # message version (table version) or None
    first_arrival: int  # position of the batch's first record in the run's input for its stream
    received_at: dt.datetime  # fallback extraction time: when the batch began


def audit_columns(
    struct: pa.StructArray, meta: BatchMeta, locator: RecordLocator
) -> dict[str, pa.Array]:
    """The staged audit columns of the root records."""
    fields = dict(zip([f.name for f in struct.type], struct.flatten(), strict=True))
    every = np.arange(len(struct))
    deleted_at = parse_timestamps(fields["_sdc_deleted_at"], "_sdc_deleted_at", every, locator)
    extracted = pc.coalesce(
        parse_timestamps(fields["_sdc_extracted_at"], "_sdc_extracted_at", every, locator),
        parse_timestamps(
            pa.array(meta.time_extracted, pa.string()), "time_extracted", every, locator
        ),
        pa.scalar(meta.received_at, TIMESTAMP.arrow),
    )
    micros = pc.cast(pc.cast(extracted, pa.timestamp("us")), pa.int64())
    given = _given_sequence(fields["_sdc_sequence"], locator)
    _check_orderable(micros, given, fields["_sdc_extracted_at"], meta, locator)
    arrivals = np.arange(meta.first_arrival, meta.first_arrival + len(struct), dtype=np.int64)
    order = pa.array(arrivals % ARRIVALS_PER_MICROSECOND)
    derived = pc.add(pc.multiply(micros, ARRIVALS_PER_MICROSECOND), order)
    sequence = pc.coalesce(given, derived)
    return {
        "_extracted_at": extracted,
        "_sequence": sequence,
        "_is_deleted": deleted_at.is_valid(),
        "_deleted_at": deleted_at,
        "_table_version": _versions(meta.versions, locator),
    }


def _given_sequence(values: pa.Array, locator: RecordLocator) -> pa.Array:
    """The records' `_sdc_sequence` as BIGINT; one outside BIGINT's range is an error."""
    try:
        return pc.cast(values, BIGINT.arrow)
    except pa.ArrowInvalid:
        pass
    for row, value in enumerate(values.to_pylist()):
        if value is not None and not BIGINT_MIN <= value <= BIGINT_MAX:
            raise locator.error(
                row,
                "_sdc_sequence",
                f"{value} is outside the BIGINT range of _sequence ({BIGINT_MIN} to {BIGINT_MAX})",
            )
    raise locator.error(0, "_sdc_sequence", "cannot be read as a BIGINT")


def _check_orderable(
    micros: pa.Array,
    given: pa.Array,
    extracted_at: pa.Array,
    meta: BatchMeta,
    locator: RecordLocator,
) -> None:
    """Records ordered by extraction time (no `_sdc_sequence`) must have one `_sequence` can
    hold: outside 1677-09-21..2262-04-11 it would wrap around and win or lose at random."""
    outside = pc.and_(
        given.is_null(), pc.or_(pc.less(micros, MIN_MICROS), pc.greater(micros, MAX_MICROS))
    )
    if not pc.any(outside).as_py():
        return
    row = pc.index(outside, True).as_py()
    field, value = "_sdc_extracted_at", extracted_at[row].as_py()
    if value is None:
        field, value = "time_extracted", meta.time_extracted[row]
    low, high = (
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=m)
        for m in (MIN_MICROS, MAX_MICROS)
    )
    raise locator.error(
        row,
        field,
        (
            f"{value} is outside the extraction times _sequence can order "
            f"({low:%Y-%m-%dT%H:%M:%SZ} to {high:%Y-%m-%dT%H:%M:%SZ}); fix the source's clock or "
            "the value, or send an _sdc_sequence"
        ),
    )


def _versions(versions: list[object], locator: RecordLocator) -> pa.Array:
    """The messages' table versions as BIGINT; anything but an integer is an error."""
    try:
        return pa.array(versions, BIGINT.arrow)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    for row, version in enumerate(versions):
        if version is not None and not (
            type(version) is int and BIGINT_MIN <= version <= BIGINT_MAX
        ):
            raise locator.error(
                row,
                "version",
                f"the RECORD message's version {version!r} is not "
                "an integer (a table version is a BIGINT, e.g. epoch milliseconds)",
            )
    raise locator.error(0, "version", "cannot be read as a BIGINT")


def flatten_batch(
    root: TableSpec, struct: pa.StructArray, audit: dict[str, pa.Array], locator: RecordLocator
) -> dict[str, pa.Table]:
    """Rows for the root table and every child table that has rows in this batch."""
    out: dict[str, pa.Table] = {}
    _flatten_table(root, struct, {}, audit, np.arange(len(struct)), locator, out)
    return out


def _flatten_table(
    spec: TableSpec,
    rows: pa.StructArray,
    inherited: dict[str, pa.Array],
    audit: dict[str, pa.Array],
    root_index: np.ndarray,
    locator: RecordLocator,
    out: dict[str, pa.Table],
) -> None:
    columns = dict(inherited)
    lists: list[tuple[TableSpec, pa.Array]] = []
    _walk(spec.fields, rows, None, columns, lists, root_index, locator)
    if not spec.inherited:
        for key in spec.key:
            if columns[key].null_count:
                row = pc.index(columns[key].is_null(), True).as_py()
                raise locator.error(int(root_index[row]), key, "is a key property but is null")
    out[spec.name] = pa.table({**columns, **audit, ROOT_INDEX: pa.array(root_index)})
    for child, values in lists:
        parents = np.asarray(pc.list_parent_indices(values), dtype=np.int64)
        if not len(parents):
            continue
        offsets = np.asarray(values.offsets, dtype=np.int64)
        line = np.arange(len(parents), dtype=np.int64) + offsets[0] - offsets[parents] + 1
        take = pa.array(parents)
        child_columns = {mine: columns[theirs].take(take) for theirs, mine in child.inherited}
        child_columns[LINE_NUMBER] = pa.array(line)
        child_audit = {name: column.take(take) for name, column in audit.items()}
        _flatten_table(
            child,
            pc.list_flatten(values),
            child_columns,
            child_audit,
            root_index[parents],
            locator,
            out,
        )


def _walk(
    nodes: tuple[Node, ...],
    rows: pa.StructArray,
    present: pa.Array | None,
    columns: dict[str, pa.Array],
    lists: list[tuple[TableSpec, pa.Array]],
    root_index: np.ndarray,
    locator: RecordLocator,
) -> None:
    """Collect leaf columns (cast and checked) and list-of-object arrays of a row object."""
    if present is None:
        present = pa.array(np.ones(len(rows), dtype=bool))
    for node, values in zip(nodes, rows.flatten(), strict=False):
        if isinstance(node, Leaf):
            must_exist = present if node.required else None
            columns[node.column] = finalize(
                node, node.column, values, must_exist, root_index, locator
            )
        elif isinstance(node, Obj):
            inner = pc.and_(present, values.is_valid())
            _walk(node.fields, values, inner, columns, lists, root_index, locator)
        elif isinstance(node, Child):
            lists.append((node.table, values))


def newest_per_key(root: TableSpec, tables: dict[str, pa.Table]) -> tuple[dict[str, pa.Table], int]:
    """Keep one root record per key (highest _sequence, then last arrival) and its children.

    Returns the reduced tables and how many records were dropped as superseded duplicates.
    """
    root_rows = tables[root.name]
    if not root.key or root_rows.num_rows == 0:
        return tables, 0
    if _all_distinct(root_rows.select(root.key)):
        return tables, 0
    ranked = root_rows.select([*root.key, "_sequence", ROOT_INDEX]).sort_by(
        [("_sequence", "ascending"), (ROOT_INDEX, "ascending")]
    )
    ranked = ranked.append_column("__rank", pa.array(np.arange(ranked.num_rows)))
    newest = ranked.group_by(root.key).aggregate([("__rank", "max")])["__rank_max"]
    kept = pc.take(ranked[ROOT_INDEX], newest)
    reduced = {
        name: table.filter(pc.is_in(table[ROOT_INDEX], value_set=kept.combine_chunks()))
        for name, table in tables.items()
    }
    return reduced, root_rows.num_rows - len(kept)


def _all_distinct(keys: pa.Table) -> bool:
    """Whether no key occurs twice (the common case, checked without a group-by). Keys are
    compared as their columns' text joined by a unit separator: equal keys give equal text, so
    all-distinct text proves all-distinct keys."""
    text = [pc.cast(column, pa.string()) for column in keys.columns]
    joined = text[0] if len(text) == 1 else pc.binary_join_element_wise(*text, "\x1f")
    return bool(pc.count_distinct(joined).as_py() == keys.num_rows)


def for_staging(table: pa.Table) -> pa.Table:
    """The table as staged: without the hidden bookkeeping column."""
    return table.drop_columns([ROOT_INDEX])
