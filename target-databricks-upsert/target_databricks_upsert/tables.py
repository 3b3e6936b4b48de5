"""A stream's JSON Schema -> the warehouse tables it is written to.

One stream becomes one root table plus a child table per list of objects (recursively): columns
with exact types, the key, and how each child table's key is derived from its parent's. Nothing
here knows any particular tap; the naming rules are the warehouse contract's
(`invoices.items` -> `invoice_items`, `invoice_items.taxes` -> `invoice_item_taxes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from target_databricks_upsert.errors import SchemaError

DEFAULT_DECIMAL = (38, 6)

AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_loaded_at", "TIMESTAMP"),
    ("_updated_at", "TIMESTAMP"),
    ("_load_id", "STRING"),
    ("_extracted_at", "TIMESTAMP"),
    ("_sequence", "BIGINT"),
    ("_is_deleted", "BOOLEAN"),
    ("_deleted_at", "TIMESTAMP"),
    ("_table_version", "BIGINT"),
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
    ("load_id", "STRING"),
    ("table_name", "STRING"),
    ("business_id", "STRING"),
    ("started_at", "TIMESTAMP"),
    ("finished_at", "TIMESTAMP"),
    ("rows_inserted", "BIGINT"),
    ("rows_updated", "BIGINT"),
    ("rows_deleted", "BIGINT"),
    ("tap_version", "STRING"),
    ("target_version", "STRING"),
)
LOAD_AUDIT_KEY = ("load_id", "table_name", "business_id")
PROBE_TABLE = "_connection_test"
"""The connection check's table (created and dropped by `--test`)."""
RESERVED_TABLES = frozenset({LOAD_AUDIT_TABLE, PROBE_TABLE})
"""Tables of the target itself, which no stream may write."""

SINGER_METADATA_PREFIX = "_sdc_"
LINE_NUMBER = "line_number"

# JSON Schema keywords the columnar validator checks itself; any other keyword (besides
# annotations and x-* extensions) makes the stream fall back to a compiled per-record validator.
COLUMNAR_KEYWORDS = frozenset(
    {
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
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
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


@dataclass(frozen=True)
class Leaf:
    """A scalar property: one column. `kind` says how its JSON value is read."""

    prop: str
    column: str
    kind: str  # string | integer | number | decimal_string | date | timestamp | boolean | json
    sql_type: str
    nullable: bool
    checks: dict = field(default_factory=dict)
    required: bool = False  # listed in "required" with a non-null type: null is an error


@dataclass(frozen=True)
class Obj:
    """A nested object: its properties become columns prefixed with its name."""

    prop: str
    prefix: str
    fields: tuple


@dataclass(frozen=True)
class Child:
    """A list of objects: rows of a child table."""

    prop: str
    table: TableSpec


@dataclass
class TableSpec:
    """One warehouse table written by a stream."""

    name: str
    fields: tuple  # Leaf | Obj | Child nodes describing one row object (record or list item)
    key: list[str]  # key column names
    partition_column: str | None
    inherited: list[tuple[str, str]] = field(default_factory=list)  # (parent column, own column)
    root_key_map: list[tuple[str, str]] = field(default_factory=list)  # (root column, own column)
    needs_full_validation: bool = False
    _inherited_types: dict = field(default_factory=dict, repr=False)

    @property
    def data_columns(self) -> list[tuple[str, str]]:
        """(name, sql type) of the inherited key columns, line_number and the row's own leaves."""
        own = [(leaf.column, leaf.sql_type) for leaf in iter_leaves(self.fields)]
        inherited = [(col, self._inherited_type(col)) for _, col in self.inherited]
        line = [(LINE_NUMBER, "BIGINT")] if self.inherited else []
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

    def _inherited_type(self, column: str) -> str:
        return self._inherited_types[column]


def iter_leaves(nodes) -> list[Leaf]:
    """Every scalar column of a row object, nested objects expanded."""
    return _nodes_of_kind(nodes, Leaf)


def iter_children(nodes) -> list[Child]:
    """Every list-of-objects field of a row object, including those inside nested objects."""
    return _nodes_of_kind(nodes, Child)


def _nodes_of_kind(nodes, kind: type) -> list:
    out: list = []
    for node in nodes:
        if isinstance(node, kind):
            out.append(node)
        elif isinstance(node, Obj):
            out.extend(_nodes_of_kind(node.fields, kind))
    return out


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
    schema: dict,
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
        inherited, types = [], {}
        for column in parent.key:
            mine = f"{parent_singular}_{column}" if column in own else column
            inherited.append((column, mine))
            types[mine] = key_types[column]
        child.inherited = inherited
        child._inherited_types = types
        child.partition_column = parent.partition_column
        renamed = dict(inherited)
        child.root_key_map = [(root_col, renamed[col]) for root_col, col in parent.root_key_map]
        child.key = [mine for _, mine in inherited] + [LINE_NUMBER]
        child_key_types = {**types, LINE_NUMBER: "BIGINT"}
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
        self, table: str, properties: dict, prefix: str, in_keyed_table: bool, required=()
    ):
        nodes = []
        for prop, prop_schema in properties.items():
            if not prefix and prop.startswith(SINGER_METADATA_PREFIX):
                continue  # Singer metadata becomes audit columns, not data columns
            node = self.node(table, prop, prop_schema or {}, prefix, in_keyed_table)
            if isinstance(node, Leaf) and prop in required and not node.nullable:
                node = Leaf(**{**node.__dict__, "required": True})
            nodes.append(node)
        return tuple(nodes)

    def node(self, table: str, prop: str, schema: dict, prefix: str, in_keyed_table: bool):
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
        if is_object_list and in_keyed_table:  # a keyless stream keeps its lists as JSON text
            self._note_keywords(items)
            child_name = f"{singular(table)}_{column}"
            fields = self.object_fields(
                child_name, items["properties"], "", True, items.get("required", [])
            )
            return Child(prop=prop, table=TableSpec(child_name, fields, [], None))
        if "type" not in schema and ("anyOf" in schema or "oneOf" in schema):
            kind, sql_type = _scalar_kind(_branch_schema(schema), _types(_branch_schema(schema))[0])
        else:
            kind, sql_type = _scalar_kind(schema, types)
        checks = {k: schema[k] for k in CHECK_KEYWORDS if k in schema}
        if kind == "json" and checks:
            self.needs_full_validation = True
        return Leaf(prop, column, kind, sql_type, nullable, checks)

    def _note_keywords(self, schema: dict) -> None:
        unknown = [k for k in schema if k not in COLUMNAR_KEYWORDS and not k.startswith("x-")]
        if unknown:
            self.needs_full_validation = True


def _types(schema: dict) -> tuple[set[str], bool]:
    """The non-null JSON types a property allows, and whether null is allowed."""
    if "type" in schema:
        declared = schema["type"]
        names = {declared} if isinstance(declared, str) else set(declared)
    elif "anyOf" in schema or "oneOf" in schema:
        names = set()
        for branch in schema.get("anyOf") or schema.get("oneOf"):
            branch_types, branch_nullable = _types(branch)
            names |= branch_types | ({"null"} if branch_nullable else set())
    else:
        names = {"__any__"}
    nullable = "null" in names or "__any__" in names
    return names - {"null"}, nullable


def _branch_schema(schema: dict) -> dict:
    """For anyOf/oneOf: the one branch all non-null branches agree on, else a plain string or
    an untyped (JSON text) schema."""
    branches = [b for b in schema.get("anyOf") or schema.get("oneOf") if _types(b)[0]]
    kinds = {_scalar_kind(b, _types(b)[0]) for b in branches}
    if len(kinds) == 1:
        return branches[0]
    if all(_types(b)[0] == {"string"} for b in branches):
        return {"type": "string"}
    return {}


def _scalar_kind(schema: dict, types: set[str]) -> tuple[str, str]:
    fmt = schema.get("format")
    if types == {"integer"}:
        return "integer", "BIGINT"
    if types in ({"number"}, {"number", "integer"}):
        return "number", _decimal_type(schema)
    if types == {"boolean"}:
        return "boolean", "BOOLEAN"
    if types == {"string"}:
        if fmt == "date-time":
            return "timestamp", "TIMESTAMP"
        if fmt == "date":
            return "date", "DATE"
        if fmt in ("singer.decimal", "x-singer.decimal"):
            return "decimal_string", _decimal_type(schema)
        return "string", "STRING"
    return "json", "STRING"


def _decimal_type(schema: dict) -> str:
    """DECIMAL(p,s): from x-sql-datatype, precision/scale, a multipleOf of 10^-k, or 38,6."""
    precision, scale = DEFAULT_DECIMAL
    stated = str(schema.get("x-sql-datatype", ""))
    match = re.fullmatch(r"\s*(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*", stated, re.I)
    if match:
        precision, scale = int(match[1]), int(match[2])
    elif "precision" in schema or "scale" in schema:
        precision = int(schema.get("precision", precision))
        scale = int(schema.get("scale", scale))
    elif "multipleOf" in schema:
        step = str(schema["multipleOf"])
        if re.fullmatch(r"0\.0*1|1e-\d+", step):
            scale = len(step.split(".")[1]) if "." in step else int(step.split("-")[1])
    if not (0 < precision <= 38 and 0 <= scale <= precision):
        raise SchemaError(f"unsupported decimal precision/scale ({precision},{scale}); max is 38")
    return f"DECIMAL({precision},{scale})"
