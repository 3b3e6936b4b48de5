"""Wave's GraphQL shapes -> the analytics shapes of the warehouse contract (docs/warehouse.md).

Rules, applied recursively to every node the tap reads:

- camelCase names become snake_case: `invoiceNumber` -> `invoice_number`;
- a `Money` (an object with `value` and `currency`) becomes `<field>` (the exact decimal string)
  and `<field>_currency` (its currency code);
- a `Currency` (an object selecting only `code`) becomes its code;
- a reference (an object selecting only `id`, maybe with `__typename`) becomes `<field>_id`
  (and `<field>_type` for unions such as an invoice's `source`);
- any other single object is flattened with its field name as prefix: `address.city` ->
  `address_city`, `shippingDetails.address.city` -> `shipping_address_city`;
- lists of objects stay nested (the target makes child tables of them), each item shaped alike;
  an item's `__typename` (e.g. which kind of discount) becomes `type`.

Decimal values are never floats: `conform` turns whatever arrives for a field the stream
schema marks `x-singer.decimal` into its exact string.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Mapping
from typing import Any

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# Prefix names that read better than the raw field name once flattened.
_PREFIXES = {"shippingDetails": "shipping"}
# Inside an address, `addressLine1` is just `line1` (so `address_line1`, not `address_address_line1`).
_ADDRESS_PARTS = {"addressLine1": "line1", "addressLine2": "line2"}

DECIMAL_FORMATS = ("x-singer.decimal", "singer.decimal")


def snake_case(name: str) -> str:
    """`balanceInBusinessCurrency` -> `balance_in_business_currency`."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _is_money(value: Mapping[str, Any]) -> bool:
    return "value" in value and "currency" in value


def _is_currency(value: Mapping[str, Any]) -> bool:
    return set(value) == {"code"}


def _is_reference(value: Mapping[str, Any]) -> bool:
    return set(value) - {"__typename"} == {"id"}


def _exact(value: Any) -> Any:
    """A number read from JSON as Decimal becomes its exact string; other values stay."""
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return value


def _shape_field(out: dict[str, Any], name: str, value: Any) -> None:
    column = snake_case(name)
    if isinstance(value, Mapping):
        if _is_money(value):
            out[column] = _exact(value["value"])
            currency = value["currency"]
            out[f"{column}_currency"] = currency.get("code") if currency else None
        elif _is_currency(value):
            out[column] = value["code"]
        elif _is_reference(value):
            out[f"{column}_id"] = value["id"]
            if "__typename" in value:
                out[f"{column}_type"] = value["__typename"]
        else:
            prefix = _PREFIXES.get(name, column)
            for sub_name, sub_column_value in shape(value).items():
                out[f"{prefix}_{sub_name}"] = sub_column_value
    elif isinstance(value, list):
        out[column] = [shape(item) if isinstance(item, Mapping) else _exact(item) for item in value]
    else:
        out[column] = _exact(value)


def shape(node: Mapping[str, Any]) -> dict[str, Any]:
    """Shape one Wave node (a record, or an item of a nested list) for the warehouse."""
    out: dict[str, Any] = {}
    for name, value in node.items():
        if name == "__typename":
            out["type"] = value
        else:
            _shape_field(out, _ADDRESS_PARTS.get(name, name), value)
    return out


def conform(record: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Fit a shaped record to its schema, in place.

    Every field the schema marks `x-singer.decimal` becomes an exact decimal string. A null
    object (e.g. an invoice without `source`) has no columns of its own: its null key is
    dropped, its prefixed columns (`source_id`) are simply absent, which means null.
    """
    properties = schema.get("properties", {})
    for column, value in list(record.items()):
        column_schema = properties.get(column)
        if column_schema is None:
            if value is None:
                del record[column]
            continue
        if value is None:
            continue
        if column_schema.get("format") in DECIMAL_FORMATS and not isinstance(value, str):
            if isinstance(value, float | bool):
                msg = f"field {column}: expected an exact decimal, got {type(value).__name__}"
                raise TypeError(msg)
            record[column] = format(decimal.Decimal(value), "f")
        elif isinstance(value, list) and "items" in column_schema:
            for item in value:
                if isinstance(item, dict):
                    conform(item, column_schema["items"])
    return record
