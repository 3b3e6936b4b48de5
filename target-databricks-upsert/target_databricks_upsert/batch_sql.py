"""The statements that write one batch of a stream, in Databricks SQL (DuckDB reads them through
`sql.Dialect`); the rest of the target's SQL is in `sql.py`.

Per table, one MERGE applies the rows `judging_sql` judged: the root table upserted with a
newer-wins guard on `_sequence`; each child table's lines upserted the same way *and*, in the same
statement, the lines that a parent of the batch no longer has marked deleted. Beside them, one
MERGE into `_load_audit` adds per table and business what the writes do. On Databricks the counts
are read first and the audit goes out with the writes (`batch_counts`, `counted_steps`); on DuckDB
they run table after table in one transaction (`batch_steps`).

A row is rewritten only when its content changes: re-reading an unchanged entity changes nothing
(no Delta commit rewrites its files, the change data feed shows nothing, and the row keeps the
`_sequence` and `_extracted_at` of the read that first saw that content). A batch none of whose
keys any table has yet may be appended instead (`all_new`).
"""

from __future__ import annotations

from typing import Any

from target_databricks_upsert.judging_sql import (
    ACTION,
    join_on,
    judge,
    judged_relation,
    staged_columns,
)
from target_databricks_upsert.sql import (
    NOW,
    Load,
    qualified,
    quote,
    timestamp_literal,
)
from target_databricks_upsert.table_spec import LOAD_AUDIT_COLUMNS, LOAD_AUDIT_TABLE, TableSpec


def _business(table: TableSpec, alias: str) -> str:
    if table.partition_column:
        return f"CAST({alias}.{quote(table.partition_column)} AS STRING)"
    return "''"


def upsert(
    load: Load,
    root: TableSpec,
    table: TableSpec,
    sources: dict[str, str],
    judged: dict[str, str] | None = None,
) -> str:
    """One MERGE writing a batch's rows of `table` (and, for a child table, its removed lines).

    Every change to a matched row is one UPDATE clause whose values follow the row's action: an
    update overwrites; a deletion keeps the known values the record leaves out; a removed line
    (whose source values are NULL) keeps its values, `_extracted_at` and `_table_version`. One
    clause, not one per action: DuckDB's MERGE holds the changes of each UPDATE clause apart, and
    three of them over every column outgrew its memory limit on a re-sync."""
    target = qualified(load, table.name)
    values = [c for c, _ in table.data_columns if c not in table.key]
    action = f"s.{ACTION}"

    def unless(kind: str, column: str, otherwise: str) -> str:
        return f"CASE WHEN {action} = '{kind}' THEN {otherwise} ELSE s.{quote(column)} END"

    assignments = [
        *(
            f"{quote(c)} = CASE WHEN {action} = 'update' THEN s.{quote(c)} "
            f"ELSE COALESCE(s.{quote(c)}, t.{quote(c)}) END"
            for c in values
        ),
        f"`_is_deleted` = {action} <> 'update'",
        f"`_deleted_at` = CASE WHEN {action} = 'update' THEN NULL "
        "ELSE COALESCE(t.`_deleted_at`, s.`_deleted_at`) END",
        f"`_extracted_at` = {unless('remove', '_extracted_at', 't.`_extracted_at`')}",
        "`_sequence` = s.`_sequence`",
        f"`_table_version` = {unless('remove', '_table_version', 't.`_table_version`')}",
        f"`_updated_at` = {NOW}",
        f"`_load_id` = {load.literal(load.load_id)}",
    ]
    insert_cols, insert_vals = _inserted(load, table)
    return (
        f"MERGE INTO {target} AS t USING {judged_relation(load, root, table, sources, judged)} AS s "
        f"ON {join_on('t', 's', [(k, k) for k in table.key])} "
        f"WHEN MATCHED AND {action} <> 'insert' THEN UPDATE SET {', '.join(assignments)} "
        f"WHEN NOT MATCHED AND {action} = 'insert' THEN INSERT ({insert_cols}) "
        f"VALUES ({insert_vals})"
    )


def _counts(
    load: Load,
    root: TableSpec,
    table: TableSpec,
    sources: dict[str, str],
    judged: dict[str, str] | None = None,
) -> str:
    """Per business: the rows `upsert` will insert, update and mark deleted in `table`."""

    def count(*names: str) -> str:
        listed = ", ".join(f"'{n}'" for n in names)
        return f"SUM(CASE WHEN s.{ACTION} IN ({listed}) THEN 1 ELSE 0 END)"

    return (
        f"SELECT {load.literal(table.name)} AS table_name, {_business(table, 's')} AS business_id, "
        f"{count('insert')} AS rows_inserted, {count('update', 'redelete')} AS rows_updated, "
        f"{count('delete', 'remove')} AS rows_deleted "
        f"FROM {judged_relation(load, root, table, sources, judged)} AS s GROUP BY 2"
    )


def _appended_counts(load: Load, table: TableSpec, relation: str) -> str:
    return (
        f"SELECT {load.literal(table.name)} AS table_name, {_business(table, 's')} AS "
        "business_id, COUNT(*) AS rows_inserted, 0 AS rows_updated, 0 AS rows_deleted "
        f"FROM {relation} AS s GROUP BY 2"
    )


def audit(load: Load, counts: list[str]) -> str:
    """Add per-table, per-business counts (each query: table_name, business_id, rows_inserted,
    rows_updated, rows_deleted) to `_load_audit`: one row per load, table and business."""
    a = qualified(load, LOAD_AUDIT_TABLE)
    insert_cols = ", ".join(quote(c) for c, _ in LOAD_AUDIT_COLUMNS)
    return (
        f"MERGE INTO {a} AS a USING (SELECT {load.literal(load.load_id)} AS load_id, n.table_name, "
        "n.business_id, n.rows_inserted, n.rows_updated, n.rows_deleted FROM ("
        + " UNION ALL ".join(counts)
        + ") AS n) AS c "
        "ON a.load_id = c.load_id AND a.table_name = c.table_name AND a.business_id = c.business_id "
        f"WHEN MATCHED THEN UPDATE SET finished_at = {NOW}, "
        "rows_inserted = a.rows_inserted + c.rows_inserted, "
        "rows_updated = a.rows_updated + c.rows_updated, "
        "rows_deleted = a.rows_deleted + c.rows_deleted "
        f"WHEN NOT MATCHED THEN INSERT ({insert_cols}) VALUES (c.load_id, c.table_name, "
        f"c.business_id, {timestamp_literal(load, load.started_at)}, {NOW}, c.rows_inserted, "
        f"c.rows_updated, c.rows_deleted, {load.literal(load.tap_version)}, "
        f"{load.literal(load.target_version)})"
    )


def _inserted(load: Load, table: TableSpec) -> tuple[str, str]:
    """The columns a new row of `table` is written with, and their values from a source `s`."""
    columns = staged_columns(table)
    names = ", ".join(quote(c) for c in [*columns, "_loaded_at", "_updated_at", "_load_id"])
    values = ", ".join([*(f"s.{quote(c)}" for c in columns), NOW, NOW, load.literal(load.load_id)])
    return names, values


def _append(load: Load, table: TableSpec, relation: str) -> str:
    insert_cols, values = _inserted(load, table)
    return (
        f"INSERT INTO {qualified(load, table.name)} ({insert_cols}) SELECT {values} "
        f"FROM {relation} AS s"
    )


def _plan(
    load: Load, root: TableSpec, sources: dict[str, str], all_new: bool, judging: bool
) -> tuple[list[TableSpec], list[str], list[str], dict[str, str]]:
    """The batch's tables, per table its counts query and its write, and (`judging`) the
    temporary tables they read the judged rows from."""
    tables = [root, *root.descendants()]
    if all_new or not root.key:
        written = [t for t in tables if t.name in sources]
        counts = [_appended_counts(load, t, sources[t.name]) for t in written]
        return written, counts, [_append(load, t, sources[t.name]) for t in written], {}
    judged = {t.name: quote(f"_judged_{t.name}") for t in tables} if judging else {}
    counts = [_counts(load, root, t, sources, judged) for t in tables]
    return tables, counts, [upsert(load, root, t, sources, judged) for t in tables], judged


def batch_steps(
    load: Load, root: TableSpec, sources: dict[str, str], all_new: bool = False
) -> list[list[str]]:
    """The statements of one batch in one transaction (`Dialect.counts_first` off), table after
    table: its rows judged into a temporary table, its audit MERGE counting them, its write, and
    the temporary table dropped. `sources` maps a table to its staged relation (the root always has
    one). With `all_new` (no table has a key of the batch: `rows_of_batch_keys` is 0), and for a
    keyless stream, rows are appended (nothing to judge). Counts first: `batch_counts` and
    `counted_steps`."""
    tables, counts, writes, judged = _plan(load, root, sources, all_new, judging=True)
    return [
        [
            *([judge(load, root, t, sources, judged[t.name])] if judged else []),
            audit(load, [counted]),
            written,
            *([f"DROP TABLE {judged[t.name]}"] if judged else []),
        ]
        for t, counted, written in zip(tables, counts, writes, strict=True)
    ]


def batch_counts(
    load: Load, root: TableSpec, sources: dict[str, str], all_new: bool = False
) -> str:
    """One query: per table and business, what the batch's writes will do (table_name,
    business_id, rows_inserted, rows_updated, rows_deleted), for `counted_steps`."""
    _, counts, _, _ = _plan(load, root, sources, all_new, judging=False)
    return " UNION ALL ".join(counts)


def counted_steps(
    load: Load,
    root: TableSpec,
    sources: dict[str, str],
    counted: list[tuple[Any, ...]],
    all_new: bool = False,
) -> list[list[str]]:
    """The batch in one step, given what `batch_counts` answered: the audit MERGE from those
    counts beside the writes of the tables that have something to change (none: only the audit)."""
    tables, _, writes, _ = _plan(load, root, sources, all_new, judging=False)
    if not counted:
        return []
    changing = {name for name, _, *rows in counted if any(rows)}
    columns = "table_name, business_id, rows_inserted, rows_updated, rows_deleted"
    values = ", ".join(
        "("
        + ", ".join(
            [load.literal(name), load.literal(business)]
            + [f"CAST({load.literal(int(n or 0))} AS BIGINT)" for n in rows]
        )
        + ")"
        for name, business, *rows in counted
    )
    literal_counts = f"SELECT {columns} FROM (VALUES {values}) AS n({columns})"
    kept = [w for t, w in zip(tables, writes, strict=True) if t.name in changing]
    return [[audit(load, [literal_counts]), *kept]]


def retire_old_versions(
    load: Load,
    table: TableSpec,
    version: int,
    before_sequence: int,
    businesses: list[str] | None,
    hard_delete: bool = False,
) -> list[list[str]]:
    """ACTIVATE_VERSION: rows not re-sent in `version` become deleted, only within `businesses`.

    A row written after the version began (a higher `_sequence`, e.g. from a webhook) is kept.
    """
    target = qualified(load, table.name)
    fence = (
        "NOT `_is_deleted` AND (`_table_version` IS NULL OR "
        f"`_table_version` < {load.literal(int(version))}) AND `_sequence` < "
        f"{load.literal(int(before_sequence))}"
    )
    if businesses is not None and table.partition_column:
        fence += (
            f" AND {quote(table.partition_column)} IN "
            f"({', '.join(load.literal(b) for b in businesses)})"
        )
    counts = (
        f"SELECT {load.literal(table.name)} AS table_name, {_business(table, 'r')} AS "
        "business_id, 0 AS rows_inserted, 0 AS rows_updated, COUNT(*) AS rows_deleted "
        f"FROM {target} AS r WHERE {fence} GROUP BY 2"
    )
    if hard_delete:
        change = f"DELETE FROM {target} WHERE {fence}"
    else:
        change = (
            f"UPDATE {target} SET `_is_deleted` = TRUE, `_deleted_at` = {NOW}, "
            f"`_updated_at` = {NOW}, `_load_id` = {load.literal(load.load_id)} WHERE {fence}"
        )
    return [[audit(load, [counts])], [change]]


def rows_of_batch_keys(load: Load, root: TableSpec, root_source: str) -> str:
    """How many rows of the stream's tables (root and children) have a key of the batch."""
    s = root_source
    counts = [
        f"(SELECT COUNT(*) FROM {qualified(load, t.name)} AS t JOIN {s} AS s "
        f"ON {join_on('t', 's', [(b, a) for a, b in t.root_key_map])})"
        for t in [root, *root.descendants()]
    ]
    return f"SELECT {' + '.join(counts)} AS existing"
