"""Bulk validation: a batch of records -> one typed Arrow array, or one clear error.

Instead of running jsonschema per record, the batch is converted column-wise: pyarrow's converter
rejects wrong JSON types, casts reject malformed dates, timestamps and decimal strings, and
Arrow compute checks enum/range/length/pattern keywords. Only when a schema uses keywords this
cannot express (anyOf, const, ...) does the stream also run a fastjsonschema validator compiled
once per schema. Any failure is traced back to one record and reported with its key and field.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import fastjsonschema
import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from target_databricks_upsert.column_types import INTEGER_INPUT, KINDS, TIMESTAMP
from target_databricks_upsert.errors import RecordValidationError
from target_databricks_upsert.table_spec import Child, Leaf, Node, Obj, TableSpec, iter_children

_JSON = msgspec.json.Encoder(decimal_format="number")
METADATA_FIELDS = (
    ("_sdc_deleted_at", pa.string()),
    ("_sdc_extracted_at", pa.string()),
    ("_sdc_sequence", INTEGER_INPUT),
)
UTC_MICROS = TIMESTAMP.arrow


def input_type(nodes: tuple[Node, ...], with_metadata: bool = False) -> pa.StructType:
    """The Arrow type records are converted to (before casts): one field per property."""
    fields = []
    for node in nodes:
        if isinstance(node, Leaf):
            fields.append(pa.field(node.prop, _leaf_input_type(node)))
        elif isinstance(node, Obj):
            fields.append(pa.field(node.prop, input_type(node.fields)))
        else:
            fields.append(pa.field(node.prop, pa.list_(input_type(node.table.fields))))
    if with_metadata:
        fields += [pa.field(name, kind) for name, kind in METADATA_FIELDS]
    return pa.struct(fields)


def _leaf_input_type(leaf: Leaf) -> pa.DataType:
    """The Arrow type a leaf's JSON values are converted to (`column_types.KINDS`)."""
    return KINDS[leaf.kind].read_as or leaf.type.arrow


class RecordLocator:
    """Names a record of the batch by its key, for error messages. `records` are the parsed
    records (before conversion) or the converted struct array; `offset` is the position of
    `records[0]` in the batch."""

    def __init__(
        self,
        stream: str,
        records: list[dict[str, Any]] | pa.StructArray,
        key_properties: list[str],
        offset: int = 0,
    ) -> None:
        self.stream, self.records, self.key_properties = stream, records, key_properties
        self.offset = offset

    def key(self, index: int) -> str:
        if not self.key_properties:
            return f"#{self.offset + index + 1} of the batch"
        if isinstance(self.records, pa.StructArray):
            values = [self.records.field(k)[index].as_py() for k in self.key_properties]
        else:
            values = [self.records[index].get(k) for k in self.key_properties]
        return str(values[0]) if len(values) == 1 else "(" + ", ".join(map(str, values)) + ")"

    def error(self, index: int, field: str, problem: str) -> RecordValidationError:
        return RecordValidationError(self.stream, self.key(index), field, problem)


def records_to_arrow(
    records: list[dict[str, Any]], root: TableSpec, locator: RecordLocator
) -> pa.StructArray:
    """Convert (and type-check) a batch; JSON-text fields are serialized first."""
    _serialize_json_fields(records, root.fields)
    struct_type = input_type(root.fields, with_metadata=True)
    try:
        return pa.array(records, type=struct_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    for field in struct_type:
        values = [r.get(field.name) if isinstance(r, dict) else r for r in records]
        try:
            pa.array(values, type=field.type)
            continue
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
        for index, value in enumerate(values):
            try:
                pa.array([value], type=field.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                raise locator.error(index, field.name, _arrow_problem(exc, value)) from None
    raise locator.error(0, "(record)", "is not a JSON object")


def _arrow_problem(exc: Exception, value: object) -> str:
    text = str(exc).split("\n")[0]
    return f"value {value!r} does not match the schema ({text})"


def _has_json(nodes: tuple[Node, ...]) -> bool:
    for node in nodes:
        if isinstance(node, Leaf) and node.kind == "json":
            return True
        if isinstance(node, Obj) and _has_json(node.fields):
            return True
        if isinstance(node, Child) and _has_json(node.table.fields):
            return True
    return False


def _serialize_json_fields(objects: list[Any], nodes: tuple[Node, ...]) -> None:
    """Replace values of JSON-text columns by their JSON text, in place."""
    if not _has_json(nodes):
        return
    for node in nodes:
        if isinstance(node, Leaf) and node.kind == "json":
            name = node.prop
            for obj in objects:
                if isinstance(obj, dict) and obj.get(name) is not None:
                    obj[name] = _JSON.encode(obj[name]).decode()
        elif isinstance(node, Obj):
            _serialize_json_fields(
                [o.get(node.prop) for o in objects if isinstance(o, dict)], node.fields
            )
        elif isinstance(node, Child):
            items = [
                item
                for o in objects
                if isinstance(o, dict) and isinstance(o.get(node.prop), list)
                for item in o[node.prop]
            ]
            _serialize_json_fields(items, node.table.fields)


def finalize(
    leaf: Leaf,
    column: str,
    values: pa.Array,
    must_exist: pa.Array | None,
    root_index: np.ndarray,
    locator: RecordLocator,
) -> pa.Array:
    """Cast a converted leaf to its warehouse type and apply its checks."""
    if must_exist is not None:
        missing = pc.and_(must_exist, values.is_null())
        if pc.any(missing).as_py():
            row = pc.index(missing, True).as_py()
            raise locator.error(int(root_index[row]), column, "is required but missing or null")
    cast = KINDS[leaf.kind].cast
    if cast == "arrow":
        values = _cast(values, leaf.type.arrow, column, root_index, locator)
    elif cast == "timestamp":
        values = parse_timestamps(values, column, root_index, locator)
    if leaf.checks:
        _apply_checks(leaf, column, values, root_index, locator)
    return values


def _cast(
    values: pa.Array,
    to_type: pa.DataType,
    column: str,
    root_index: np.ndarray,
    locator: RecordLocator,
) -> pa.Array:
    try:
        return pc.cast(values, to_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for row, value in enumerate(values):
        if value.is_valid:
            try:
                pc.cast(pa.array([value.as_py()], values.type), to_type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                problem = f"{value.as_py()!r} is not a valid {to_type} ({str(exc).splitlines()[0]})"
                raise locator.error(int(root_index[row]), column, problem) from None
    raise locator.error(int(root_index[0]), column, f"cannot be read as {to_type}")


def parse_timestamps(
    values: pa.Array, column: str, root_index: np.ndarray, locator: RecordLocator
) -> pa.Array:
    """ISO-8601 strings -> UTC timestamps; a value without an offset is taken as UTC."""
    if values.type == UTC_MICROS:
        return values
    try:
        return pc.cast(values, UTC_MICROS)
    except pa.ArrowInvalid:
        pass
    try:
        return pc.assume_timezone(pc.cast(values, pa.timestamp("us")), "UTC")
    except pa.ArrowInvalid:
        pass
    parsed: list[dt.datetime | None] = []
    for row, text in enumerate(values.to_pylist()):
        if text is None:
            parsed.append(None)
            continue
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            problem = f"{text!r} is not an ISO-8601 date-time"
            raise locator.error(int(root_index[row]), column, problem) from None
        parsed.append(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    return pa.array(parsed, type=UTC_MICROS)


def _apply_checks(
    leaf: Leaf, column: str, values: pa.Array, root_index: np.ndarray, locator: RecordLocator
) -> None:
    checks = leaf.checks
    bad = None
    text = pa.types.is_string(values.type)
    if "enum" in checks:
        allowed = pa.array([v for v in checks["enum"] if v is not None], type=values.type)
        bad = _or(bad, pc.invert(pc.is_in(values, value_set=allowed)))
    if text and "maxLength" in checks:
        bad = _or(bad, pc.greater(pc.utf8_length(values), checks["maxLength"]))
    if text and "minLength" in checks:
        bad = _or(bad, pc.less(pc.utf8_length(values), checks["minLength"]))
    if text and "pattern" in checks:
        bad = _or(bad, pc.invert(pc.match_substring_regex(values, checks["pattern"])))
    if not text and not pa.types.is_boolean(values.type):
        numbers = pc.cast(values, pa.float64())
        for keyword, compare in (
            ("minimum", pc.less),
            ("maximum", pc.greater),
            ("exclusiveMinimum", pc.less_equal),
            ("exclusiveMaximum", pc.greater_equal),
        ):
            if isinstance(checks.get(keyword), (int, float)) and not isinstance(
                checks[keyword], bool
            ):
                bad = _or(bad, compare(numbers, float(checks[keyword])))
    if bad is not None and pc.any(pc.fill_null(bad, False)).as_py():
        row = pc.index(pc.fill_null(bad, False), True).as_py()
        rule = {k: checks[k] for k in checks}
        problem = f"{values[row].as_py()!r} breaks the schema rule {json.dumps(rule, default=str)}"
        raise locator.error(int(root_index[row]), column, problem)


def _or(left: pa.Array | None, right: pa.Array) -> pa.Array:
    return right if left is None else pc.or_(left, right)


class CompiledValidator:
    """A fastjsonschema validator compiled once per schema, for schemas the columnar check
    cannot fully express."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._validate = fastjsonschema.compile(_without_singer_formats(schema))

    def check(self, records: list[dict[str, Any]], locator: RecordLocator) -> None:
        validate = self._validate
        for index, record in enumerate(records):
            try:
                validate(record)
            except fastjsonschema.JsonSchemaValueException as exc:
                field = (exc.name or "data").removeprefix("data").lstrip(".") or "(record)"
                raise locator.error(
                    index, field, exc.message.replace(exc.name or "", "value")
                ) from None


def _without_singer_formats(schema: Any) -> Any:
    """fastjsonschema rejects unknown formats such as singer.decimal; drop them."""
    if isinstance(schema, dict):
        return {
            k: _without_singer_formats(v)
            for k, v in schema.items()
            if not (k == "format" and v not in ("date", "date-time", "email", "uri", "ipv4"))
        }
    if isinstance(schema, list):
        return [_without_singer_formats(v) for v in schema]
    return schema


__all__ = [
    "CompiledValidator",
    "RecordLocator",
    "finalize",
    "input_type",
    "iter_children",
    "parse_timestamps",
    "records_to_arrow",
]
