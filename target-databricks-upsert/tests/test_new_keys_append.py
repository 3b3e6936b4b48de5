"""On DuckDB a batch whose keys no table holds yet is appended instead of MERGEd: same result."""

from __future__ import annotations

from target_databricks_upsert.testing import (
    INVOICE_SCHEMA,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
    stable,
)

SCHEMA = schema_message("invoices", INVOICE_SCHEMA)
TABLES = ("invoices", "invoice_items", "invoice_item_taxes")


def batch() -> list[dict]:
    items = [
        {
            "description": "Design",
            "quantity": "2",
            "taxes": [{"sales_tax_id": "GST", "amount": "1.25"}],
        },
        {"description": "Hosting", "quantity": "1"},
    ]
    return [
        record_message("invoices", invoice("B1", "I1", items=items)),
        record_message("invoices", invoice("B2", "I2", total="7.50")),
        record_message("invoices", invoice("B1", "I3", _sdc_deleted_at="2024-05-01T00:00:00Z")),
        record_message(
            "invoices",
            invoice("B1", "I1", total="11.00", items=items[:1]),
            extracted="2024-05-02T00:00:00Z",
        ),
    ]


def audit(warehouse) -> list[tuple]:
    return [
        (
            a["table_name"],
            a["business_id"],
            a["rows_inserted"],
            a["rows_updated"],
            a["rows_deleted"],
        )
        for a in rows(warehouse, "_load_audit", order_by="table_name, business_id")
    ]


def test_appended_batch_of_new_keys_equals_the_merged_one(tmp_path):
    appended, merged = tmp_path / "appended.duckdb", tmp_path / "merged.duckdb"
    run_cli(appended, [SCHEMA, *batch()])
    # The same batch, but one of its keys (of another business) is already in the table: MERGE.
    run_cli(merged, [SCHEMA, record_message("invoices", invoice("B9", "I9"))])
    run_cli(merged, [SCHEMA, *batch()])
    for table in TABLES:
        assert stable(rows(appended, table)) == [
            row for row in stable(rows(merged, table)) if row["business_id"] != "B9"
        ], table
    assert (
        audit(appended)
        == [a for a in audit(merged) if a[1] != "B9"]
        == [
            ("invoice_item_taxes", "B1", 1, 0, 0),
            ("invoice_items", "B1", 2, 0, 0),
            ("invoice_items", "B2", 1, 0, 0),
            ("invoices", "B1", 2, 0, 0),
            ("invoices", "B2", 1, 0, 0),
        ]
    )
