"""The target's SQL, written in Databricks SQL: dialects, names and literals, DDL, the metadata
query, staged relations; the statements that write a batch are in `batch_sql.py`.

Nothing else in the package writes SQL. The embedded DuckDB warehouse runs the same statements
rendered with `Load.dialect = DUCKDB`: DuckDB reads Databricks' backtick identifiers, STRING,
DECIMAL(p,s), conditional MERGE clauses and `current_timestamp`, so the dialect switch covers only
what differs (see `Dialect`). The unit tests parse every Databricks statement with sqlglot's
Databricks dialect and check that each DuckDB rendering means what sqlglot's transpile of the
Databricks one means (sqlglot is a test dependency: at 20 MB it does not fit the target's memory
budget).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from target_databricks_upsert.column_types import TIMESTAMP, Engine, spelled
from target_databricks_upsert.settings import DEFAULT_TABLE_LAYOUT
from target_databricks_upsert.table_spec import (
    LOAD_AUDIT_COLUMNS,
    LOAD_AUDIT_KEY,
    LOAD_AUDIT_TABLE,
    TableSpec,
)

NOW = "current_timestamp"  # Databricks: "the braces are optional"; DuckDB reads only this form


@dataclass(frozen=True)
class Dialect:
    """What the DuckDB rendering of a statement changes; everything else is written once."""

    engine: Engine  # whose spelling of column types (`column_types`: DuckDB's TIMESTAMPTZ)
    backslash_escapes: bool  # Databricks string literals read \' and \\; DuckDB's only ''
    delta_tables: bool  # USING DELTA, CLUSTER/PARTITIONED BY, TBLPROPERTIES
    add_columns_at_once: bool  # ADD COLUMNS (a, b) in one ALTER, or one ADD COLUMN each
    # How a batch is written (`batch_sql`). Counts first (Databricks, no transactions, every
    # statement a round trip): one query counts what the writes will do, then the audit MERGE (from
    # those literals) goes out beside the writes of the tables that change. Otherwise (DuckDB, one
    # transaction, no round trips), table after table: its rows judged into a temporary table,
    # counted, merged (a MERGE whose source joins the table it writes outgrew DuckDB's memory_limit)
    counts_first: bool

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
        """A column type of `table_spec.py` (Databricks spelling) in this dialect."""
        return spelled(databricks_type, self.engine)


DATABRICKS = Dialect(
    "databricks",
    backslash_escapes=True,
    delta_tables=True,
    add_columns_at_once=True,
    counts_first=True,
)
DUCKDB = Dialect(
    "duckdb",
    backslash_escapes=False,
    delta_tables=False,
    add_columns_at_once=False,
    counts_first=False,
)


@dataclass(frozen=True)
class Load:
    """What every statement of one run stamps on the rows it writes, and the dialect it speaks."""

    namespace: tuple[str, ...]  # (schema,) or (catalog, schema)
    load_id: str
    started_at: str  # ISO-8601 UTC
    target_version: str
    tap_version: str | None = None
    table_layout: str = DEFAULT_TABLE_LAYOUT  # cluster | partition
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
    return f"CAST({load.literal(iso)} AS {load.dialect.column_type(TIMESTAMP.databricks)})"


def qualified(load: Load, table: str) -> str:
    return ".".join(quote(part) for part in (*load.namespace, table))


def create_schema(load: Load) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {'.'.join(quote(p) for p in load.namespace)}"


def _create_table(
    load: Load,
    name: str,
    columns: Sequence[tuple[str, str]],
    not_null: set[str],
    layout_column: str | None,
) -> str:
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


def describe_tables(load: Load) -> str:
    """Every column of every table of the target's schema, in one query: table, column, type and
    nullability ('YES'/'NO'); no rows if the schema does not exist. Key columns are the NOT NULL
    ones (`create_table`)."""
    *catalog, schema = load.namespace
    source = ".".join([*(quote(c) for c in catalog), "information_schema", "columns"])
    # Unity Catalog's data_type is the bare name (DECIMAL); full_data_type has the precision.
    type_column = "full_data_type" if catalog else "data_type"
    return (
        f"SELECT table_name, column_name, {type_column}, is_nullable FROM {source} "
        f"WHERE table_schema = {load.literal(schema)}"
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
