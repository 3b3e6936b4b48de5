"""A stream's JSON Schema -> the warehouse tables it is written to.

One stream becomes one root table plus a child table per list of objects (recursively): columns
with exact types, the key, and how each child table's key is derived from its parent's. Nothing
here knows any particular tap; the naming rules are the warehouse contract's
(`invoices.items` -> `invoice_items`, `invoice_items.taxes` -> `invoice_item_taxes`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from target_databricks_upsert.column_types import kind_of
from target_databricks_upsert.errors import SchemaError
from target_databricks_upsert.table_spec import (
    AUDIT_COLUMNS,
    LINE_NUMBER,
    LINE_NUMBER_TYPE,
    RESERVED_TABLES,
    Child,
    Leaf,
    Node,
    Obj,
    TableSpec,
    iter_leaves,
)

SINGER_METADATA_PREFIX = "_sdc_"

# The keywords that constrain a value, checked column by column (`Leaf.checks`).
CHECK_KEYWORDS = (
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
)
# JSON Schema keywords the columnar validator checks itself; any other keyword (besides
# annotations and x-* extensions) makes the stream fall back to a compiled per-record validator.
COLUMNAR_KEYWORDS = frozenset(
    {
        *CHECK_KEYWORDS,
        "type",
        "format",
        "properties",
        "items",
        "required",
        "additionalProperties",
        "description",
        "title",
        "default",
        "examples",
        "$comment",
        "$schema",
        "$id",
        "precision",
        "scale",
        "multipleOf",
        "readOnly",
        "writeOnly",
        "deprecated",
        "definitions",
        "$defs",
    }
)


def conform(name: str) -> str:
    """A property or stream name as a warehouse identifier: snake_case, [a-z0-9_] only."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", text)
    text = re.sub(r"[^0-9A-Za-z_]+", "_", text).lower()
    text = re.sub(r"(?<=[^_])_+", "_", text).rstrip("_") or "_"
    return f"_{text}" if text[0].isdigit() else text


def singular(table_name: str) -> str:
    """The singular of a table name's last word: invoices -> invoice, sales_taxes -> sales_tax."""
    head, _, word = table_name.rpartition("_")
    if word.endswith("sses") or word.endswith(("xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("ies") and len(word) > 3:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return f"{head}_{word}" if head else word


def stream_tables(
    stream_name: str,
    schema: dict[str, Any],
    key_properties: list[str] | None,
    partition_column: str = "business_id",
) -> TableSpec:
    """The root table (with its child tables) for a stream's SCHEMA message."""
    table = conform(stream_name)
    properties = schema.get("properties") or {}
    keys = [conform(k) for k in key_properties or []]
    builder = _Builder(stream_name)
    fields = builder.object_fields(
        table, properties, prefix="", in_keyed_table=bool(keys), required=schema.get("required", [])
    )
    columns = {leaf.column: leaf for leaf in iter_leaves(fields)}
    for key in keys:
        if key not in columns:
            raise SchemaError(
                f"stream {stream_name}: key property {key!r} is not a top-level property of the "
                "schema; declare it in the SCHEMA message's properties"
            )
    partition = partition_column if partition_column in columns else None
    root = TableSpec(
        name=table,
        fields=fields,
        key=keys,
        partition_column=partition,
        root_key_map=[(k, k) for k in keys],
        needs_full_validation=builder.needs_full_validation,
    )
    _link_children(root, {k: columns[k].sql_type for k in keys}, own=set(keys) - {partition})
    _check_unique_columns(stream_name, root)
    return root


def check_not_reserved(stream_name: str, root: TableSpec) -> None:
    """A stream may not write the target's own tables (`_load_audit`, `_connection_test`)."""
    for spec in [root, *root.descendants()]:
        if spec.name in RESERVED_TABLES:
            raise SchemaError(
                f"stream {stream_name}: its table name {spec.name!r} is the target's own table "
                f"({', '.join(sorted(RESERVED_TABLES))} are reserved); give the stream another "
                'name with a stream map (stream_maps: {"<stream>": {"__alias__": "..."}}) '
                "and rerun"
            )


def _link_children(parent: TableSpec, key_types: dict[str, str], own: set[str]) -> None:
    """Give every child table its inherited key columns (parent key, own columns renamed)."""
    parent_singular = singular(parent.name)
    for child in parent.children:
        inherited: list[tuple[str, str]] = []
        types: dict[str, str] = {}
        for column in parent.key:
            mine = f"{parent_singular}_{column}" if column in own else column
            inherited.append((column, mine))
            types[mine] = key_types[column]
        child.inherited = inherited
        child.inherited_types = types
        child.partition_column = parent.partition_column
        renamed = dict(inherited)
        child.root_key_map = [(root_col, renamed[col]) for root_col, col in parent.root_key_map]
        child.key = [mine for _, mine in inherited] + [LINE_NUMBER]
        child_key_types = {**types, LINE_NUMBER: LINE_NUMBER_TYPE}
        _link_children(child, child_key_types, own={LINE_NUMBER})


def _check_unique_columns(stream_name: str, table: TableSpec) -> None:
    reserved = {name for name, _ in AUDIT_COLUMNS}
    seen: set[str] = set()
    for column, _ in table.data_columns:
        if column in reserved or column in seen:
            what = "an audit column name" if column in reserved else "a duplicate column name"
            raise SchemaError(
                f"stream {stream_name}: table {table.name} would get {what} {column!r}; rename "
                "the property with a stream map (stream_maps) before loading"
            )
        seen.add(column)
    for child in table.children:
        _check_unique_columns(stream_name, child)


class _Builder:
    """Walks a JSON Schema and produces Leaf/Obj/Child nodes."""

    def __init__(self, stream_name: str) -> None:
        self.stream_name = stream_name
        self.needs_full_validation = False

    def object_fields(
        self,
        table: str,
        properties: dict[str, Any],
        prefix: str,
        in_keyed_table: bool,
        required: Iterable[str] = (),
    ) -> tuple[Node, ...]:
        required = set(required)
        nodes: list[Node] = []
        for prop, prop_schema in properties.items():
            if not prefix and prop.startswith(SINGER_METADATA_PREFIX):
                continue  # Singer metadata becomes audit columns, not data columns
            node = self.node(table, prop, prop_schema or {}, prefix, in_keyed_table)
            if isinstance(node, Leaf) and prop in required and not node.nullable:
                node = dataclasses.replace(node, required=True)
            nodes.append(node)
        return tuple(nodes)

    def node(
        self, table: str, prop: str, schema: dict[str, Any], prefix: str, in_keyed_table: bool
    ) -> Node:
        self._note_keywords(schema)
        column = f"{prefix}{conform(prop)}"
        types, nullable = _types(schema)
        if types == {"object"} and schema.get("properties"):
            fields = self.object_fields(
                table,
                schema["properties"],
                f"{column}_",
                in_keyed_table,
                schema.get("required", []),
            )
            return Obj(prop=prop, prefix=column, fields=fields)
        items = schema.get("items") if types == {"array"} else None
        is_object_list = (
            isinstance(items, dict) and _types(items)[0] == {"object"} and items.get("properties")
        )
        if is_object_list and in_keyed_table and isinstance(items, dict):
            # (a keyless stream keeps its lists as JSON text)
            self._note_keywords(items)
            child_name = f"{singular(table)}_{column}"
            fields = self.object_fields(
                child_name, items["properties"], "", True, items.get("required", [])
            )
            return Child(prop=prop, table=TableSpec(child_name, fields, [], None))
        if "type" not in schema and ("anyOf" in schema or "oneOf" in schema):
            branch = _branch_schema(schema)
            kind, column_type = kind_of(branch, _types(branch)[0])
        else:
            kind, column_type = kind_of(schema, types)
        checks = {k: schema[k] for k in CHECK_KEYWORDS if k in schema}
        if kind == "json" and checks:
            self.needs_full_validation = True
        return Leaf(prop, column, kind, column_type, nullable, checks)

    def _note_keywords(self, schema: dict[str, Any]) -> None:
        unknown = [k for k in schema if k not in COLUMNAR_KEYWORDS and not k.startswith("x-")]
        if unknown:
            self.needs_full_validation = True


def _types(schema: dict[str, Any]) -> tuple[set[str], bool]:
    """The non-null JSON types a property allows, and whether null is allowed."""
    if "type" in schema:
        declared = schema["type"]
        names = {declared} if isinstance(declared, str) else set(declared)
    elif "anyOf" in schema or "oneOf" in schema:
        names = set()
        for branch in _branches(schema):
            branch_types, branch_nullable = _types(branch)
            names |= branch_types | ({"null"} if branch_nullable else set())
    else:
        names = {"__any__"}
    nullable = "null" in names or "__any__" in names
    return names - {"null"}, nullable


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The branches of an anyOf (or oneOf) schema."""
    branches: list[dict[str, Any]] = schema.get("anyOf") or schema.get("oneOf") or []
    return branches


def _branch_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """For anyOf/oneOf: the one branch all non-null branches agree on, else a plain string or
    an untyped (JSON text) schema."""
    branches = [b for b in _branches(schema) if _types(b)[0]]
    kinds = {kind_of(b, _types(b)[0]) for b in branches}
    if len(kinds) == 1:
        return branches[0]
    if all(_types(b)[0] == {"string"} for b in branches):
        return {"type": "string"}
    return {}
