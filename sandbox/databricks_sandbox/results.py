"""Result sets on the wire: Arrow tables as the connector expects them from a Databricks
warehouse (Arrow IPC schema + record batches, ``ARROW_BASED_SET``) and the Hive table schema
(``TTableSchema``) describing their columns, with DECIMAL precision/scale qualifiers.
"""

from __future__ import annotations

import pyarrow as pa
from databricks.sql.thrift_api.TCLIService import ttypes

T = ttypes.TTypeId
UTC_ZONE = "Etc/UTC"  # the zone Databricks labels TIMESTAMP columns with in a UTC session


def normalize(table: pa.Table) -> pa.Table:
    """Cast DuckDB's Arrow output to the types a Databricks warehouse sends."""
    fields = [pa.field(f.name, _wire_type(f.type)) for f in table.schema]
    target = pa.schema(fields)
    if target.equals(table.schema):
        return table
    columns = [
        col.cast(f.type) if col.type != f.type else col
        for col, f in zip(table.columns, fields, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=target)


def _wire_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", UTC_ZONE if t.tz else None)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_dictionary(t):
        return _wire_type(t.value_type)
    if t == pa.uint64():
        return pa.decimal128(20, 0)
    if t == pa.uint32():
        return pa.int64()
    if t in (pa.uint16(), pa.uint8()):
        return pa.int32()
    if pa.types.is_interval(t) or pa.types.is_time(t) or pa.types.is_duration(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_wire_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _wire_type(f.type)) for f in t])
    if pa.types.is_map(t):
        return pa.map_(_wire_type(t.key_type), _wire_type(t.item_type))
    return t


_PRIMITIVE = [
    (pa.types.is_boolean, T.BOOLEAN_TYPE),
    (pa.types.is_int8, T.TINYINT_TYPE),
    (pa.types.is_int16, T.SMALLINT_TYPE),
    (pa.types.is_int32, T.INT_TYPE),
    (pa.types.is_int64, T.BIGINT_TYPE),
    (pa.types.is_float32, T.FLOAT_TYPE),
    (pa.types.is_float64, T.DOUBLE_TYPE),
    (pa.types.is_string, T.STRING_TYPE),
    (pa.types.is_binary, T.BINARY_TYPE),
    (pa.types.is_timestamp, T.TIMESTAMP_TYPE),
    (pa.types.is_date, T.DATE_TYPE),
    (pa.types.is_decimal, T.DECIMAL_TYPE),
    (pa.types.is_list, T.ARRAY_TYPE),
    (pa.types.is_map, T.MAP_TYPE),
    (pa.types.is_struct, T.STRUCT_TYPE),
    (pa.types.is_null, T.NULL_TYPE),
]


def _type_id(t: pa.DataType) -> int:
    for test, type_id in _PRIMITIVE:
        if test(t):
            return type_id
    return T.STRING_TYPE


def table_schema(schema: pa.Schema) -> ttypes.TTableSchema:
    """The Hive ``TTableSchema`` for an Arrow schema."""
    columns = []
    for position, f in enumerate(schema, start=1):
        qualifiers = None
        if pa.types.is_decimal(f.type):
            qualifiers = ttypes.TTypeQualifiers(
                qualifiers={
                    "precision": ttypes.TTypeQualifierValue(i32Value=f.type.precision),
                    "scale": ttypes.TTypeQualifierValue(i32Value=f.type.scale),
                }
            )
        entry = ttypes.TTypeEntry(
            primitiveEntry=ttypes.TPrimitiveTypeEntry(
                type=_type_id(f.type), typeQualifiers=qualifiers
            )
        )
        columns.append(
            ttypes.TColumnDesc(
                columnName=f.name, typeDesc=ttypes.TTypeDesc(types=[entry]), position=position
            )
        )
    return ttypes.TTableSchema(columns=columns)


def arrow_schema_bytes(schema: pa.Schema) -> bytes:
    return schema.serialize().to_pybytes()


def row_set(table: pa.Table, start: int, max_rows: int) -> tuple[ttypes.TRowSet, int]:
    """Arrow batches for rows [start, start+max_rows) and how many rows that is."""
    chunk = table.slice(start, max(max_rows, 1))
    batches = [
        ttypes.TSparkArrowBatch(batch=b.serialize().to_pybytes(), rowCount=b.num_rows)
        for b in chunk.to_batches()
        if b.num_rows
    ]
    return ttypes.TRowSet(startRowOffset=start, rows=[], arrowBatches=batches), chunk.num_rows
