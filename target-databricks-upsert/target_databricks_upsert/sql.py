"""Every SQL statement the target runs, written in Databricks SQL.

Nothing else in the package writes SQL. The embedded DuckDB warehouse runs the same statements
rendered with `Load.dialect = DUCKDB`: DuckDB reads Databricks' backtick identifiers, STRING,
DECIMAL(p,s), conditional MERGE clauses and `current_timestamp`, so the dialect switch covers only
what differs (see `Dialect`). The unit tests parse every Databricks statement with sqlglot's
Databricks dialect and check that each DuckDB rendering means what sqlglot's transpile of the
Databricks one means (sqlglot is a test dependency: at 20 MB it does not fit the target's memory
budget). A batch of one stream becomes, in one transaction:

1. per table (root first, then each child table): an audit MERGE counting what the write will do,
   then the MERGE of the staged rows with a newer-wins guard on `_sequence`;
2. per child table: marking lines that are no longer in their (re-written) parent as deleted.

A batch none of whose keys is in any of the stream's tables yet may instead be appended
(`rows_of_batch_keys`, `batch_statements(all_new=True)`): the same rows and audit counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from target_databricks_upsert.tables import (
    AUDIT_COLUMNS,
    LOAD_AUDIT_COLUMNS,
    LOAD_AUDIT_KEY,
    LOAD_AUDIT_TABLE,
    TableSpec,
)

NOW = "current_timestamp"  # Databricks: "the braces are optional"; DuckDB reads only this form


@dataclass(frozen=True)
class Dialect:
    """What the DuckDB rendering of a statement changes; everything else is written once."""

    timestamp_type: str  # the contract's TIMESTAMP: an instant, shown in UTC
    backslash_escapes: bool  # Databricks string literals read \' and \\; DuckDB's only ''
    delta_tables: bool  # USING DELTA, CLUSTER/PARTITIONED BY, TBLPROPERTIES
    add_columns_at_once: bool  # ADD COLUMNS (a, b) in one ALTER, or one ADD COLUMN each

    def literal(self, value: object) -> str:
        """A literal for a Python string, number, boolean or None."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        text = str(value)
        if self.backslash_escapes:
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def column_type(self, databricks_type: str) -> str:
        """A column type of `tables.py` (Databricks spelling) in this dialect."""
        return self.timestamp_type if databricks_type == "TIMESTAMP" else databricks_type


DATABRICKS = Dialect("TIMESTAMP", backslash_escapes=True, delta_tables=True,
                     add_columns_at_once=True)
DUCKDB = Dialect("TIMESTAMPTZ", backslash_escapes=False, delta_tables=False,
                 add_columns_at_once=False)


@dataclass(frozen=True)
class Load:
    """What every statement of one run stamps on the rows it writes, and the dialect it speaks."""

    namespace: tuple[str, ...]  # (schema,) or (catalog, schema)
    load_id: str
    started_at: str  # ISO-8601 UTC
    target_version: str
    tap_version: str | None = None
    table_layout: str = "cluster"  # cluster | partition
    dialect: Dialect = DATABRICKS

    def literal(self, value: object) -> str:
        return self.dialect.literal(value)


def quote(identifier: str) -> str:
    """An identifier in backticks (Databricks' quoting, which DuckDB reads too)."""
    return "`" + identifier.replace("`", "``") + "`"


def literal(value: object) -> str:
    """A Databricks literal (for the statements only the Databricks warehouse runs)."""
    return DATABRICKS.literal(value)


def timestamp_literal(load: Load, iso: str) -> str:
    return f"CAST({load.literal(iso)} AS {load.dialect.column_type('TIMESTAMP')})"


def qualified(load: Load, table: str) -> str:
    return ".".join(quote(part) for part in (*load.namespace, table))


def create_schema(load: Load) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {'.'.join(quote(p) for p in load.namespace)}"


def _create_table(load: Load, name: str, columns, not_null: set[str], layout_column: str | None):
    cols = ", ".join(
        f"{quote(c)} {load.dialect.column_type(t)}{' NOT NULL' if c in not_null else ''}"
        for c, t in columns
    )
    create = f"CREATE TABLE IF NOT EXISTS {qualified(load, name)} ({cols})"
    if not load.dialect.delta_tables:
        return create
    layout = ""
    if layout_column:
        word = "PARTITIONED BY" if load.table_layout == "partition" else "CLUSTER BY"
        layout = f" {word} ({quote(layout_column)})"
    return f"{create} USING DELTA{layout} TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')"


def create_table(load: Load, table: TableSpec) -> str:
    """The table with its data and audit columns, laid out by its partition column."""
    layout = table.partition_column or (table.key[0] if table.key else None)
    return _create_table(load, table.name, table.all_columns, set(table.key), layout)


def create_load_audit(load: Load) -> str:
    return _create_table(
        load, LOAD_AUDIT_TABLE, LOAD_AUDIT_COLUMNS, set(LOAD_AUDIT_KEY), "business_id"
    )


def drop_table(load: Load, name: str) -> str:
    """Only for the connection check's probe table: a sync never drops a table."""
    return f"DROP TABLE IF EXISTS {qualified(load, name)}"


def current_principal() -> str:
    """Who the session runs as (Databricks: the user, or the service principal's id)."""
    return "SELECT current_user()"


def add_columns(load: Load, table: str, columns: list[tuple[str, str]]) -> list[str]:
    """One ALTER adding every column (Databricks), or one per column (DuckDB)."""
    alter = f"ALTER TABLE {qualified(load, table)}"
    defs = [f"{quote(c)} {load.dialect.column_type(t)}" for c, t in columns]
    if load.dialect.add_columns_at_once:
        return [f"{alter} ADD COLUMNS ({', '.join(defs)})"]
    return [f"{alter} ADD COLUMN {d}" for d in defs]


def describe_columns(load: Load, table: str) -> str:
    """Name, type and nullability ('YES'/'NO') of each column of a table, in no order (no rows
    if the table does not exist). Key columns are the NOT NULL ones (`create_table`)."""
    *catalog, schema = load.namespace
    source = ".".join([*(quote(c) for c in catalog), "information_schema", "columns"])
    # Unity Catalog's data_type is the bare name (DECIMAL); full_data_type has the precision.
    type_column = "full_data_type" if catalog else "data_type"
    return (
        f"SELECT column_name, {type_column}, is_nullable FROM {source} "
        f"WHERE table_schema = {load.literal(schema)} AND table_name = {load.literal(table)}"
    )


def _cast_columns(columns: list[tuple[str, str]], alias: str) -> str:
    return ", ".join(f"CAST({alias}.{quote(c)} AS {t}) AS {quote(c)}" for c, t in columns)


def inline_rows(columns: list[tuple[str, str]], rows: list[list[object]]) -> str:
    """A staged relation written out as literals (small batches): `VALUES`, each column cast."""
    names = ", ".join(quote(c) for c, _ in columns)
    values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return f"(SELECT {_cast_columns(columns, 'v')} FROM VALUES {values} AS v({names}))"


def volume_path(namespace: tuple[str, str], volume: str, *parts: str) -> str:
    """`/Volumes/<catalog>/<schema>/<volume>/<parts...>`."""
    return "/" + "/".join(["Volumes", *namespace, volume, *parts])


def create_volume(namespace: tuple[str, str], volume: str) -> str:
    return f"CREATE VOLUME IF NOT EXISTS {'.'.join(quote(p) for p in (*namespace, volume))}"


def put_file(local_path: str, path: str) -> str:
    """Upload a local file to a volume (the connector's staging protocol)."""
    return f"PUT {literal(local_path)} INTO {literal(path)} OVERWRITE"


def remove_file(path: str) -> str:
    return f"REMOVE {literal(path)}"


def parquet_rows(path: str, columns: list[tuple[str, str]]) -> str:
    """A staged relation read from a Parquet file in a volume (large batches), each column cast."""
    return (
        f"(SELECT {_cast_columns(columns, 'f')} FROM read_files({literal(path)}, "
        "format => 'parquet') AS f)"
    )


def _business(table: TableSpec, alias: str) -> str:
    if table.partition_column:
        return f"CAST({alias}.{quote(table.partition_column)} AS STRING)"
    return "''"


def _on(left: str, right: str, pairs) -> str:
    return " AND ".join(f"{left}.{quote(a)} = {right}.{quote(b)}" for a, b in pairs)


def _newer(target: str = "t", source: str = "s") -> str:
    return f"({target}.`_sequence` IS NULL OR {target}.`_sequence` <= {source}.`_sequence`)"


def staged_rows(table: TableSpec, source: str, load: Load, parent: TableSpec | None) -> str:
    """The staged rows of a table; for a child table only those whose parent write won."""
    columns = [c for c, _ in table.data_columns] + [
        c for c, _ in AUDIT_COLUMNS if c not in ("_loaded_at", "_updated_at", "_load_id")
    ]
    select = ", ".join(f"c.{quote(c)}" for c in columns)
    if parent is None:
        return f"SELECT {select} FROM {source} AS c"
    join = _on("p", "c", table.inherited)
    return (
        f"SELECT {select} FROM {source} AS c JOIN {qualified(load, parent.name)} AS p "
        f"ON {join} AND p.`_sequence` = c.`_sequence`"
    )


def audit_merge(load: Load, table_name: str, counts: str) -> str:
    """Add one statement's per-business counts to `_load_audit` (one row per load/table/business)."""
    a = qualified(load, LOAD_AUDIT_TABLE)
    insert_cols = ", ".join(quote(c) for c, _ in LOAD_AUDIT_COLUMNS)
    return (
        f"MERGE INTO {a} AS a USING (SELECT {load.literal(load.load_id)} AS load_id, "
        f"{load.literal(table_name)} AS table_name, n.business_id, n.rows_inserted, n.rows_updated, "
        f"n.rows_deleted FROM ({counts}) AS n) AS c "
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


def write_rows(load: Load, table: TableSpec, source: str, parent: TableSpec | None,
               all_new: bool = False) -> list[str]:
    """Audit counts, then the upsert (or, for a keyless stream or `all_new` rows, an append)
    of staged rows."""
    rows = staged_rows(table, source, load, parent)
    target = qualified(load, table.name)
    data = [c for c, _ in table.data_columns]
    staged_audit = ["_extracted_at", "_sequence", "_is_deleted", "_deleted_at", "_table_version"]
    insert_cols = ", ".join(quote(c) for c in [*data, *staged_audit, "_loaded_at", "_updated_at", "_load_id"])
    insert_vals = ", ".join(
        [*(f"s.{quote(c)}" for c in [*data, *staged_audit]), NOW, NOW, load.literal(load.load_id)]
    )
    if not table.key or all_new:
        counts = (
            f"SELECT {_business(table, 's')} AS business_id, COUNT(*) AS rows_inserted, "
            f"0 AS rows_updated, 0 AS rows_deleted FROM ({rows}) AS s GROUP BY 1"
        )
        append = f"INSERT INTO {target} ({insert_cols}) SELECT {insert_vals} FROM ({rows}) AS s"
        return [audit_merge(load, table.name, counts), append]

    key0 = quote(table.key[0])
    on = _on("t", "s", [(k, k) for k in table.key])
    newer = _newer()
    deleting = "s.`_is_deleted` AND NOT COALESCE(t.`_is_deleted`, FALSE)"
    counts = (
        f"SELECT {_business(table, 's')} AS business_id, "
        f"SUM(CASE WHEN t.{key0} IS NULL THEN 1 ELSE 0 END) AS rows_inserted, "
        f"SUM(CASE WHEN t.{key0} IS NOT NULL AND {newer} AND NOT ({deleting}) THEN 1 ELSE 0 END) "
        "AS rows_updated, "
        f"SUM(CASE WHEN t.{key0} IS NOT NULL AND {newer} AND {deleting} THEN 1 ELSE 0 END) "
        f"AS rows_deleted FROM ({rows}) AS s LEFT JOIN {target} AS t ON {on} GROUP BY 1"
    )
    values = [c for c in data if c not in table.key]
    stamp = (
        "`_extracted_at` = s.`_extracted_at`, `_sequence` = s.`_sequence`, "
        f"`_table_version` = s.`_table_version`, `_updated_at` = {NOW}, "
        f"`_load_id` = {load.literal(load.load_id)}"
    )
    keep_known = "".join(f"{quote(c)} = COALESCE(s.{quote(c)}, t.{quote(c)}), " for c in values)
    overwrite = "".join(f"{quote(c)} = s.{quote(c)}, " for c in values)
    merge = (
        f"MERGE INTO {target} AS t USING ({rows}) AS s ON {on} "
        f"WHEN MATCHED AND {newer} AND s.`_is_deleted` THEN UPDATE SET {keep_known}"
        "`_is_deleted` = TRUE, `_deleted_at` = COALESCE(t.`_deleted_at`, s.`_deleted_at`), "
        f"{stamp} "
        f"WHEN MATCHED AND {newer} THEN UPDATE SET {overwrite}"
        f"`_is_deleted` = FALSE, `_deleted_at` = NULL, {stamp} "
        f"WHEN NOT MATCHED THEN INSERT ({insert_cols}) VALUES ({insert_vals})"
    )
    return [audit_merge(load, table.name, counts), merge]


def mark_removed_lines(load: Load, root: TableSpec, child: TableSpec, root_source: str) -> list[str]:
    """Lines of a re-written parent that the new version no longer has become deleted.

    Runs after the child MERGE: every line still present now carries the parent's new
    `_sequence`, so the older ones under a staged parent are exactly the removed lines.
    """
    target = qualified(load, child.name)
    key_cols = ", ".join(f"c.{quote(k)}" for k in child.key)
    # The audit's business is named apart from the key columns, which may hold `business_id`
    # already (Spark refuses a reference to a name two columns share: AMBIGUOUS_REFERENCE).
    gone = (
        f"SELECT {key_cols}, {_business(child, 'c')} AS `_audit_business`, "
        "s.`_sequence` AS new_sequence, s.`_extracted_at` AS removed_at "
        f"FROM {target} AS c JOIN {root_source} AS s ON {_on('c', 's', [(b, a) for a, b in child.root_key_map])} "
        "WHERE c.`_sequence` < s.`_sequence` AND NOT c.`_is_deleted`"
    )
    counts = (
        "SELECT g.`_audit_business` AS business_id, 0 AS rows_inserted, 0 AS rows_updated, "
        f"COUNT(*) AS rows_deleted FROM ({gone}) AS g GROUP BY g.`_audit_business`"
    )
    merge = (
        f"MERGE INTO {target} AS t USING ({gone}) AS g ON {_on('t', 'g', [(k, k) for k in child.key])} "
        "WHEN MATCHED THEN UPDATE SET `_is_deleted` = TRUE, `_deleted_at` = g.removed_at, "
        f"`_sequence` = g.new_sequence, `_updated_at` = {NOW}, `_load_id` = {load.literal(load.load_id)}"
    )
    return [audit_merge(load, child.name, counts), merge]


def retire_old_versions(
    load: Load,
    table: TableSpec,
    version: int,
    before_sequence: int,
    businesses: list[str] | None,
    hard_delete: bool = False,
) -> list[str]:
    """ACTIVATE_VERSION: rows not re-sent in `version` become deleted, only within `businesses`.

    A row written after the version began (a higher `_sequence`, e.g. from a webhook) is kept.
    """
    target = qualified(load, table.name)
    fence = (
        "NOT `_is_deleted` AND (`_table_version` IS NULL OR "
        f"`_table_version` < {load.literal(int(version))}) AND `_sequence` < {load.literal(int(before_sequence))}"
    )
    if businesses is not None and table.partition_column:
        fence += f" AND {quote(table.partition_column)} IN ({', '.join(load.literal(b) for b in businesses)})"
    counts = (
        f"SELECT {_business(table, 'r')} AS business_id, 0 AS rows_inserted, 0 AS rows_updated, "
        f"COUNT(*) AS rows_deleted FROM {target} AS r WHERE {fence} GROUP BY 1"
    )
    if hard_delete:
        change = f"DELETE FROM {target} WHERE {fence}"
    else:
        change = (
            f"UPDATE {target} SET `_is_deleted` = TRUE, `_deleted_at` = {NOW}, "
            f"`_updated_at` = {NOW}, `_load_id` = {load.literal(load.load_id)} WHERE {fence}"
        )
    return [audit_merge(load, table.name, counts), change]


def rows_of_batch_keys(load: Load, root: TableSpec, root_source: str) -> str:
    """How many rows of the stream's tables (root and children) have a key of the batch."""
    s = root_source
    counts = [
        f"(SELECT COUNT(*) FROM {qualified(load, t.name)} AS t JOIN {s} AS s "
        f"ON {_on('t', 's', [(b, a) for a, b in t.root_key_map])})"
        for t in [root, *root.descendants()]
    ]
    return f"SELECT {' + '.join(counts)} AS existing"


def batch_statements(
    load: Load, root: TableSpec, sources: dict[str, str], all_new: bool = False
) -> list[str]:
    """All statements for one batch of a stream, in order; `sources` maps table -> staged relation.

    With `all_new` (no table has a row of the batch's keys: `rows_of_batch_keys` is 0) every
    MERGE would only insert, so the rows are appended (with the same audit counts).
    """
    if all_new:
        return [statement for table in [root, *root.descendants()] if table.name in sources
                for statement in write_rows(load, table, sources[table.name], None, all_new=True)]
    statements = write_rows(load, root, sources[root.name], None)
    parents = {root.name: None}
    for parent in [root, *root.descendants()]:
        for child in parent.children:
            parents[child.name] = parent
    for child in root.descendants():
        if child.name in sources:
            statements += write_rows(load, child, sources[child.name], parents[child.name])
    if root.key:
        for child in root.descendants():
            statements += mark_removed_lines(load, root, child, sources[root.name])
    return statements
