"""Column types, in one place (dlt's destination capabilities are the model).

Per kind of JSON value a column holds (`Kind`): the warehouse column type (`ColumnType`: its
Databricks spelling, which is the contract's and `tables.py`'s, DuckDB's spelling where it
differs, and the Arrow type a staged column of it holds), the Arrow type records are converted
to before their casts, and how that converted value becomes the column's type. Everything that
maps a type reads it here: the schema walk (`tables.py`), bulk validation (`validate.py`), the
DDL and casts of `sql.py` (`Dialect.column_type`), the DuckDB adapter reading its
information_schema back and the Databricks adapter staging Arrow columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from target_databricks_upsert.errors import SchemaError

Kind = Literal[
    "string", "integer", "number", "decimal_string", "date", "timestamp", "boolean", "json"
]
"""How a property's JSON value is read: `number` is a JSON number stored as DECIMAL,
`decimal_string` a string with format `singer.decimal`, `json` any other value, stored as
JSON text."""

Engine = Literal["databricks", "duckdb"]
"""Whose spelling of a column type (`ColumnType.spelled`)."""


@dataclass(frozen=True)
class ColumnType:
    """A warehouse column type."""

    databricks: str
    """The Databricks spelling: DDL on Databricks, `TableSpec` columns, error messages."""
    duckdb: str
    """The spelling the DuckDB rendering of `sql.py` creates the column with."""
    duckdb_reported: str
    """The spelling DuckDB's information_schema.columns gives back for it."""
    arrow: pa.DataType
    """What a staged (flattened, cast) column of this type holds."""

    def spelled(self, engine: Engine) -> str:
        return self.duckdb if engine == "duckdb" else self.databricks


STRING = ColumnType("STRING", "STRING", "VARCHAR", pa.string())
BIGINT = ColumnType("BIGINT", "BIGINT", "BIGINT", pa.int64())
BOOLEAN = ColumnType("BOOLEAN", "BOOLEAN", "BOOLEAN", pa.bool_())
DATE = ColumnType("DATE", "DATE", "DATE", pa.date32())
TIMESTAMP = ColumnType(
    "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", pa.timestamp("us", tz="UTC")
)
"""The contract's TIMESTAMP: an instant, shown in UTC (DuckDB: TIMESTAMPTZ)."""

# Types a table may have that the target never creates (a column made by hand): named in the
# Databricks spelling so a schema conflict names them the same way on both warehouses.
INT = ColumnType("INT", "INT", "INTEGER", pa.int32())
DOUBLE = ColumnType("DOUBLE", "DOUBLE", "DOUBLE", pa.float64())
TIMESTAMP_NTZ = ColumnType("TIMESTAMP_NTZ", "TIMESTAMP", "TIMESTAMP", pa.timestamp("us"))

_FIXED = (STRING, BIGINT, BOOLEAN, DATE, TIMESTAMP, INT, DOUBLE, TIMESTAMP_NTZ)
_BY_DATABRICKS = {t.databricks: t for t in _FIXED}
_BY_DUCKDB_REPORTED = {t.duckdb_reported: t for t in _FIXED}
_STAGED = (STRING, BIGINT, INT, BOOLEAN, DATE, DOUBLE)

DEFAULT_DECIMAL = (38, 6)
"""DECIMAL(38,6): a JSON number or decimal string whose schema states no precision."""


def decimal(precision: int, scale: int) -> ColumnType:
    """DECIMAL(p,s), spelled the same everywhere."""
    name = f"DECIMAL({precision},{scale})"
    return ColumnType(name, name, name, pa.decimal128(precision, scale))


def spelled(databricks_type: str, engine: Engine) -> str:
    """A column type of `tables.py` (Databricks spelling) in `engine`'s spelling; a type this
    module does not know is passed through."""
    known = _BY_DATABRICKS.get(databricks_type)
    return known.spelled(engine) if known is not None else databricks_type


def from_duckdb(reported: str) -> str:
    """A type as DuckDB's information_schema gives it, in the Databricks spelling."""
    name = reported.upper().strip()
    if name.startswith("DECIMAL"):
        return re.sub(r"\s+", "", name)
    known = _BY_DUCKDB_REPORTED.get(name)
    return known.databricks if known is not None else name


def from_databricks(reported: str) -> str:
    """A type as Databricks' information_schema (`full_data_type`) gives it: `decimal(38, 6)`."""
    return re.sub(r"\s+", "", reported.upper())


def staged(arrow_type: pa.DataType) -> ColumnType | None:
    """The column type a staged Arrow column is cast to (None: no column type holds it)."""
    if pa.types.is_decimal(arrow_type):
        return decimal(arrow_type.precision, arrow_type.scale)
    if pa.types.is_timestamp(arrow_type):
        return TIMESTAMP  # staged as UTC microseconds (`TIMESTAMP.arrow`)
    if pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type):
        return STRING
    return next((t for t in _STAGED if t.arrow == arrow_type), None)


@dataclass(frozen=True)
class KindTypes:
    """What a kind's column is and how a JSON value of it gets there."""

    column: ColumnType | None
    """Its column type; None for a DECIMAL, whose precision the schema states (`decimal_of`)."""
    read_as: pa.DataType | None
    """The Arrow type pyarrow converts the JSON value to; None: the column's own type."""
    cast: Literal["none", "arrow", "timestamp"]
    """How the converted value becomes the column's type: as it is, an Arrow cast (which
    rejects what does not fit), or ISO-8601 text parsed to UTC (`validate.parse_timestamps`)."""


INTEGER_INPUT = pa.decimal128(38, 0)
"""JSON integers are read as DECIMAL(38,0), then cast: 1.5 is rejected instead of truncated."""

KINDS: dict[Kind, KindTypes] = {
    "string": KindTypes(STRING, pa.string(), "none"),
    "json": KindTypes(STRING, pa.string(), "none"),  # serialized to JSON text before conversion
    "integer": KindTypes(BIGINT, INTEGER_INPUT, "arrow"),
    "number": KindTypes(None, None, "none"),
    "decimal_string": KindTypes(None, pa.string(), "arrow"),
    "date": KindTypes(DATE, pa.string(), "arrow"),
    "timestamp": KindTypes(TIMESTAMP, pa.string(), "timestamp"),
    "boolean": KindTypes(BOOLEAN, pa.bool_(), "none"),
}

DECIMAL_FORMATS = frozenset({"singer.decimal", "x-singer.decimal"})


def kind_of(schema: dict[str, Any], json_types: set[str]) -> tuple[Kind, ColumnType]:
    """The kind and column type of a scalar property with these non-null JSON types."""
    kind = _kind(schema.get("format"), json_types)
    column = KINDS[kind].column
    return kind, column if column is not None else decimal_of(schema)


def _kind(fmt: object, json_types: set[str]) -> Kind:
    if json_types == {"integer"}:
        return "integer"
    if json_types in ({"number"}, {"number", "integer"}):
        return "number"
    if json_types == {"boolean"}:
        return "boolean"
    if json_types == {"string"}:
        if fmt == "date-time":
            return "timestamp"
        if fmt == "date":
            return "date"
        if fmt in DECIMAL_FORMATS:
            return "decimal_string"
        return "string"
    return "json"


def decimal_of(schema: dict[str, Any]) -> ColumnType:
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
    return decimal(precision, scale)
