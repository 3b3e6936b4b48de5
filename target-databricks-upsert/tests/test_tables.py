"""JSON Schema -> tables: names, keys, child tables and exact types."""

from __future__ import annotations

import pytest
from target_databricks_upsert.errors import SchemaError
from target_databricks_upsert.tables import conform, singular, stream_tables
from target_databricks_upsert.testing import INVOICE_SCHEMA


@pytest.mark.parametrize(
    ("plural", "one"),
    [
        ("invoices", "invoice"),
        ("sales_taxes", "sales_tax"),
        ("items", "item"),
        ("businesses", "business"),
        ("estimates", "estimate"),
        ("line_items", "line_item"),
        ("taxes", "tax"),
        ("invoice_items", "invoice_item"),
        ("categories", "category"),
    ],
)
def test_singular_names(plural, one):
    assert singular(plural) == one


def test_camel_case_and_special_characters_become_snake_case():
    assert conform("invoiceNumber") == "invoice_number"
    assert conform("agent:os:version") == "agent_os_version"
    assert conform("_id") == "_id"
    assert conform("ForecastingTypeToCategory") == "forecasting_type_to_category"


def test_invoice_child_tables_follow_the_contract():
    root = stream_tables("invoices", INVOICE_SCHEMA, ["business_id", "id"])
    items, taxes = root.descendants()
    assert (items.name, taxes.name) == ("invoice_items", "invoice_item_taxes")
    assert items.key == ["business_id", "invoice_id", "line_number"]
    assert taxes.key == ["business_id", "invoice_id", "invoice_item_line_number", "line_number"]
    assert [c for c, _ in taxes.data_columns][:4] == taxes.key
    assert taxes.root_key_map == [("business_id", "business_id"), ("id", "invoice_id")]
    assert root.partition_column == taxes.partition_column == "business_id"


def test_contract_child_table_names():
    object_list = {
        "type": "array",
        "items": {"type": "object", "properties": {"x": {"type": "string"}}},
    }
    schema = {
        "properties": {
            "business_id": {"type": "string"},
            "id": {"type": "string"},
            "rates": object_list,
            "default_sales_taxes": object_list,
            "line_items": object_list,
            "payments": object_list,
        }
    }
    names = {
        s: [c.name for c in stream_tables(s, schema, ["business_id", "id"]).children]
        for s in ("sales_taxes", "products", "transactions", "invoices")
    }
    assert "sales_tax_rates" in names["sales_taxes"]
    assert "product_default_sales_taxes" in names["products"]
    assert "transaction_line_items" in names["transactions"]
    assert "invoice_payments" in names["invoices"]


def test_every_json_type_maps_to_an_exact_column_type():
    schema = {
        "properties": {
            "id": {"type": "integer"},
            "amount": {"type": ["string", "null"], "format": "singer.decimal"},
            "rate": {"type": "string", "format": "x-singer.decimal", "precision": 20, "scale": 10},
            "number": {"type": ["number", "null"]},
            "cents": {"type": "number", "multipleOf": 0.01},
            "stated": {"type": "number", "x-sql-datatype": "decimal(18,4)"},
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "flag": {"type": "boolean"},
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "blob": {"type": "object"},
            "either": {"type": ["string", "integer"]},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    }
    types = dict(stream_tables("things", schema, ["id"]).data_columns)
    assert types == {
        "id": "BIGINT",
        "amount": "DECIMAL(38,6)",
        "rate": "DECIMAL(20,10)",
        "number": "DECIMAL(38,6)",
        "cents": "DECIMAL(38,2)",
        "stated": "DECIMAL(18,4)",
        "day": "DATE",
        "at": "TIMESTAMP",
        "flag": "BOOLEAN",
        "name": "STRING",
        "tags": "STRING",
        "blob": "STRING",
        "either": "STRING",
        "address_city": "STRING",
    }


def test_a_property_clashing_with_an_audit_column_is_refused():
    with pytest.raises(SchemaError, match="_sequence"):
        stream_tables(
            "things",
            {"properties": {"id": {"type": "string"}, "_sequence": {"type": "integer"}}},
            ["id"],
        )
