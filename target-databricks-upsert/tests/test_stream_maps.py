"""Stream maps still apply on the target's lean record path: drop, compute, copy to an alias."""

from __future__ import annotations

from target_databricks_upsert.testing import (
    INVOICE_SCHEMA,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
)


def test_stream_maps_drop_compute_and_alias(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    messages = [
        schema_message("invoices", INVOICE_SCHEMA),
        record_message("invoices", invoice("B1", "I1")),
        record_message("invoices", invoice("B1", "I2", status="PAID")),
    ]
    maps = {
        "invoices": {"status": None, "memo": "'x' + id"},
        "invoices_copy": {"__source__": "invoices"},
    }
    run_cli(warehouse, messages, {"stream_maps": maps})
    mapped = rows(warehouse, "invoices", order_by="id")
    assert [(r["id"], r["memo"]) for r in mapped] == [("I1", "xI1"), ("I2", "xI2")]
    assert all("status" not in r for r in mapped)
    assert [(r["id"], r["status"]) for r in rows(warehouse, "invoices_copy", order_by="id")] == [
        ("I1", "SENT"),
        ("I2", "PAID"),
    ]
