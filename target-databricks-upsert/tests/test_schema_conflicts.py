"""SCHEMA messages that would make two rows share a key or two streams share a table are refused
with one clear line: a new key_properties for an existing table (read back from the table's NOT
NULL columns, on both warehouses), and stream names that become the same table name."""

from __future__ import annotations

from pathlib import Path

import pytest
from target_databricks_upsert.testing import (
    INVOICE_SCHEMA,
    cli_error,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
    state_message,
)

KEYED_BY_ID = schema_message("invoices", INVOICE_SCHEMA)
KEYED_BY_NUMBER = schema_message("invoices", INVOICE_SCHEMA, keys=("business_id", "invoice_number"))


def _namespace(warehouse) -> str:
    return "wave" if isinstance(warehouse, Path) else warehouse.name


def test_new_key_properties_for_an_existing_table_are_refused(warehouse):
    run_cli(
        warehouse,
        [
            KEYED_BY_ID,
            record_message("invoices", invoice("B1", "I1")),
            record_message("invoices", invoice("B1", "I2")),
        ],
    )
    before = rows(warehouse, "invoices")
    # Re-keyed on invoice_number, I3 would be a second row with number "I1" before the fix.
    record = invoice("B1", "I3", invoice_number="I1")
    result = run_cli(
        warehouse,
        [KEYED_BY_NUMBER, record_message("invoices", record), state_message({"n": 2})],
        check=False,
    )
    line = cli_error(result)
    assert line.startswith(
        f"stream invoices: table {_namespace(warehouse)}.invoices is keyed on "
        "(business_id, id) but the SCHEMA message's key_properties make its key "
        "(business_id, invoice_number)."
    )
    assert result.stdout.strip() == ""
    assert rows(warehouse, "invoices") == before


def test_a_key_change_within_one_run_is_refused_too(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    result = run_cli(
        warehouse,
        [
            KEYED_BY_ID,
            record_message("invoices", invoice("B1", "I1")),
            KEYED_BY_NUMBER,
            record_message("invoices", invoice("B1", "I3")),
            state_message({"n": 1}),
        ],
        check=False,
    )
    assert "is keyed on (business_id, id)" in cli_error(result)
    assert rows(warehouse, "invoices") == []


def test_a_keyless_stream_cannot_gain_a_key(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    run_cli(
        warehouse,
        [
            schema_message("invoices", INVOICE_SCHEMA, keys=()),
            record_message("invoices", invoice("B1", "I1")),
        ],
    )
    result = run_cli(
        warehouse, [KEYED_BY_ID, record_message("invoices", invoice("B1", "I1"))], check=False
    )
    assert "table wave.invoices is keyed on () but" in cli_error(result)
    assert len(rows(warehouse, "invoices")) == 1


def test_the_same_key_in_another_order_is_the_same_key(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    run_cli(warehouse, [KEYED_BY_ID, record_message("invoices", invoice("B1", "I1"))])
    reordered = schema_message("invoices", INVOICE_SCHEMA, keys=("id", "business_id"))
    run_cli(warehouse, [reordered, record_message("invoices", invoice("B1", "I1", total="2"))])
    assert [str(r["total"]) for r in rows(warehouse, "invoices")] == ["2.000000"]


@pytest.mark.parametrize("other", ["Invoices!", "INVOICES", "invoices_"])
def test_two_streams_that_become_one_table_are_refused(tmp_path, other):
    warehouse = tmp_path / "w.duckdb"
    result = run_cli(
        warehouse,
        [
            KEYED_BY_ID,
            record_message("invoices", invoice("B1", "I1")),
            schema_message(other, INVOICE_SCHEMA),
            record_message(other, invoice("B1", "I1", total="9")),
            state_message({"n": 1}),
        ],
        check=False,
    )
    line = cli_error(result)
    assert line.startswith(
        f"streams 'invoices' and {other!r} would both write the table wave.invoices"
    )
    assert result.stdout.strip() == ""
    assert rows(warehouse, "invoices") == []


def test_a_stream_whose_child_table_is_another_streams_table_is_refused(tmp_path):
    items = schema_message(
        "invoice_items",
        {"properties": {"business_id": {"type": "string"}, "id": {"type": "string"}}},
    )
    result = run_cli(tmp_path / "w.duckdb", [items, KEYED_BY_ID], check=False)
    assert cli_error(result).startswith(
        "streams 'invoice_items' and 'invoices' would both write the table wave.invoice_items"
    )


@pytest.mark.parametrize("stream", ["_load_audit", "_Load Audit", "_connection_test"])
def test_a_stream_named_like_the_targets_own_tables_is_refused(tmp_path, stream):
    warehouse = tmp_path / "w.duckdb"
    run_cli(warehouse, [KEYED_BY_ID, record_message("invoices", invoice("B1", "I1"))])
    audit = rows(warehouse, "_load_audit")
    result = run_cli(
        warehouse,
        [schema_message(stream, INVOICE_SCHEMA), record_message(stream, invoice("B1", "I1"))],
        check=False,
    )
    line = cli_error(result)
    assert line.startswith(f"stream {stream}: its table name ")
    assert "is the target's own table" in line
    assert rows(warehouse, "_load_audit") == audit
