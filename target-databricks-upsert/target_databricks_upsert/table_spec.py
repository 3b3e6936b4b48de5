"""What a warehouse table is: the nodes describing a row object (`Leaf`, `Obj`, `Child`), the
`TableSpec` of one table, and the target's own columns and tables (audit columns,
`_load_audit`, the connection check's table). `tables.py` builds specs from a stream's JSON
Schema; `column_types.py` says what each column's type is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from target_databricks_upsert.column_types import (
    BIGINT,
    BOOLEAN,
    STRING,
    TIMESTAMP,
    ColumnType,
    Kind,
)

AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_loaded_at", TIMESTAMP.databricks),
    ("_updated_at", TIMESTAMP.databricks),
    ("_load_id", STRING.databricks),
    ("_extracted_at", TIMESTAMP.databricks),
    ("_sequence", BIGINT.databricks),
    ("_is_deleted", BOOLEAN.databricks),
    ("_deleted_at", TIMESTAMP.databricks),
    ("_table_version", BIGINT.databricks),
)
"""Columns on every data table; the first two and `_load_id` are set by the MERGE itself."""

STAGED_AUDIT_COLUMNS = (
    "_extracted_at",
    "_sequence",
    "_is_deleted",
    "_deleted_at",
    "_table_version",
)
"""Audit columns that travel with the staged rows (computed per record)."""

LOAD_AUDIT_TABLE = "_load_audit"
LOAD_AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", STRING.databricks),
    ("table_name", STRING.databricks),
    ("business_id", STRING.databricks),
    ("started_at", TIMESTAMP.databricks),
    ("finished_at", TIMESTAMP.databricks),
    ("rows_inserted", BIGINT.databricks),
    ("rows_updated", BIGINT.databricks),
    ("rows_deleted", BIGINT.databricks),
    ("tap_version", STRING.databricks),
    ("target_version", STRING.databricks),
)
LOAD_AUDIT_KEY = ("load_id", "table_name", "business_id")
PROBE_TABLE = "_connection_test"
"""The connection check's table (created and dropped by `--test`)."""
RESERVED_TABLES = frozenset({LOAD_AUDIT_TABLE, PROBE_TABLE})
"""Tables of the target itself, which no stream may write."""

LINE_NUMBER = "line_number"
"""A child table's own key column: the 1-based position of the line in its parent's list."""
LINE_NUMBER_TYPE = BIGINT.databricks


@dataclass(frozen=True)
class Leaf:
    """A scalar property: one column. `kind` says how its JSON value is read, `type` what
    column it is written to."""

    prop: str
    column: str
    kind: Kind
    type: ColumnType
    nullable: bool
    checks: dict[str, Any] = field(default_factory=dict)
    """The JSON Schema keywords checked column-wise (`tables.CHECK_KEYWORDS`) and their values."""
    required: bool = False
    """Listed in "required" with a non-null type: null is an error."""

    @property
    def sql_type(self) -> str:
        """The column's type in the Databricks spelling."""
        return self.type.databricks


@dataclass(frozen=True)
class Obj:
    """A nested object: its properties become columns prefixed with its name."""

    prop: str
    prefix: str
    fields: tuple[Node, ...]


@dataclass(frozen=True)
class Child:
    """A list of objects: rows of a child table."""

    prop: str
    table: TableSpec


Node = Leaf | Obj | Child
"""A field of a row object (a record, or an item of a list of objects)."""


@dataclass
class TableSpec:
    """One warehouse table written by a stream."""

    name: str
    fields: tuple[Node, ...]
    """The fields of one row object (the record, or a list's item)."""
    key: list[str]
    """Key column names."""
    partition_column: str | None
    inherited: list[tuple[str, str]] = field(default_factory=list)
    """(parent column, own column) of the key columns a child table takes from its parent."""
    root_key_map: list[tuple[str, str]] = field(default_factory=list)
    """(root table column, own column) of the root table's key."""
    needs_full_validation: bool = False
    inherited_types: dict[str, str] = field(default_factory=dict, repr=False)
    """The Databricks types of the inherited key columns."""

    @property
    def data_columns(self) -> list[tuple[str, str]]:
        """(name, sql type) of the inherited key columns, line_number and the row's own leaves."""
        own = [(leaf.column, leaf.sql_type) for leaf in iter_leaves(self.fields)]
        inherited = [(col, self.inherited_types[col]) for _, col in self.inherited]
        line = [(LINE_NUMBER, LINE_NUMBER_TYPE)] if self.inherited else []
        return inherited + line + own

    @property
    def all_columns(self) -> list[tuple[str, str]]:
        return self.data_columns + list(AUDIT_COLUMNS)

    @property
    def children(self) -> list[TableSpec]:
        return [child.table for child in iter_children(self.fields)]

    def descendants(self) -> list[TableSpec]:
        """Child tables in pre-order (a parent always before its children)."""
        out: list[TableSpec] = []
        for child in self.children:
            out.append(child)
            out.extend(child.descendants())
        return out


_N = TypeVar("_N", Leaf, Child)


def iter_leaves(nodes: tuple[Node, ...]) -> list[Leaf]:
    """Every scalar column of a row object, nested objects expanded."""
    return _nodes_of_kind(nodes, Leaf)


def iter_children(nodes: tuple[Node, ...]) -> list[Child]:
    """Every list-of-objects field of a row object, including those inside nested objects."""
    return _nodes_of_kind(nodes, Child)


def _nodes_of_kind(nodes: tuple[Node, ...], kind: type[_N]) -> list[_N]:
    out: list[_N] = []
    for node in nodes:
        if isinstance(node, kind):
            out.append(node)
        elif isinstance(node, Obj):
            out.extend(_nodes_of_kind(node.fields, kind))
    return out
