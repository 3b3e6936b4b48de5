"""End-to-end: Singer messages into the real CLI, rows out of the DuckDB file."""

from __future__ import annotations

from decimal import Decimal

from target_databricks_upsert.testing import (
    INVOICE_SCHEMA,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
    state_message,
)

SCHEMA = schema_message("invoices", INVOICE_SCHEMA)


def test_nested_lists_become_child_and_grandchild_tables(warehouse):
    items = [
        {
            "description": "Design",
            "quantity": "2",
            "taxes": [
                {"sales_tax_id": "GST", "amount": "1.25"},
                {"sales_tax_id": "PST", "amount": "0.5"},
            ],
        },
        {"description": "Hosting", "quantity": "1"},
    ]
    run_cli(warehouse, [SCHEMA, record_message("invoices", invoice("B1", "I1", items=items))])
    assert [
        (r["invoice_id"], r["line_number"], r["description"])
        for r in rows(warehouse, "invoice_items")
    ] == [("I1", 1, "Design"), ("I1", 2, "Hosting")]
    taxes = rows(warehouse, "invoice_item_taxes")
    assert [
        (t["invoice_item_line_number"], t["line_number"], t["sales_tax_id"], t["amount"])
        for t in taxes
    ] == [(1, 1, "GST", Decimal("1.25")), (1, 2, "PST", Decimal("0.5"))]
    assert all(t["business_id"] == "B1" and not t["_is_deleted"] for t in taxes)


def test_decimals_are_exact(warehouse):
    totals = ["0.1", "12345678901234567890123456789012.123456", "-0.000001", "1e3"]
    run_cli(
        warehouse,
        [
            SCHEMA,
            *(
                record_message("invoices", invoice("B1", f"I{i}", total=t))
                for i, t in enumerate(totals)
            ),
        ],
    )
    assert [r["total"] for r in rows(warehouse, "invoices", order_by="id")] == [
        Decimal("0.1"),
        Decimal("12345678901234567890123456789012.123456"),
        Decimal("-0.000001"),
        Decimal("1000"),
    ]


def test_every_type_round_trips(warehouse):
    import datetime as dt

    schema = {
        "properties": {
            "id": {"type": "integer"},
            "price": {"type": ["number", "null"]},
            "day": {"type": ["string", "null"], "format": "date"},
            "at": {"type": ["string", "null"], "format": "date-time"},
            "paid": {"type": ["boolean", "null"]},
            "note": {"type": ["string", "null"]},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
            "extra": {"type": ["object", "null"]},
            "address": {
                "type": ["object", "null"],
                "properties": {"city": {"type": ["string", "null"]}},
            },
        }
    }
    record = {
        "id": 9007199254740993,
        "price": 19.99,
        "day": "2024-02-29",
        "at": "2024-03-01T12:30:00.123456+02:00",
        "paid": False,
        "note": 'é ✓ "q"',
        "tags": ["a", "b"],
        "extra": {"k": [1, 2.5]},
        "address": {"city": "Montréal"},
    }
    run_cli(warehouse, [schema_message("things", schema, ["id"]), record_message("things", record)])
    (row,) = rows(warehouse, "things")
    assert row["id"] == 9007199254740993
    assert row["price"] == Decimal("19.99")
    assert row["day"] == dt.date(2024, 2, 29)
    assert row["at"] == dt.datetime(2024, 3, 1, 10, 30, 0, 123456, tzinfo=dt.UTC)
    assert row["paid"] is False and row["note"] == 'é ✓ "q"'
    assert row["tags"] == '["a","b"]' and row["extra"] == '{"k":[1,2.5]}'
    assert row["address_city"] == "Montréal"


def test_in_batch_duplicates_keep_the_newest(warehouse):
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", total="3"), "2024-05-01T00:00:03Z"),
            record_message("invoices", invoice("B1", "I1", total="1"), "2024-05-01T00:00:01Z"),
            record_message("invoices", invoice("B1", "I1", total="2"), "2024-05-01T00:00:02Z"),
        ],
    )
    assert [r["total"] for r in rows(warehouse, "invoices")] == [Decimal("3")]


def test_older_record_never_overwrites_newer(warehouse):
    newer = invoice("B1", "I1", total="20", items=[{"description": "new"}])
    older = invoice("B1", "I1", total="10", items=[{"description": "old"}, {"description": "old2"}])
    run_cli(warehouse, [SCHEMA, record_message("invoices", newer, "2024-05-02T00:00:00Z")])
    run_cli(warehouse, [SCHEMA, record_message("invoices", older, "2024-05-01T00:00:00Z")])
    assert [r["total"] for r in rows(warehouse, "invoices")] == [Decimal("20")]
    assert [r["description"] for r in rows(warehouse, "invoice_items")] == ["new"]


def test_rerun_of_the_same_input_rewrites_nothing(warehouse):
    """Unchanged rows are not rewritten: not even `_updated_at` or `_load_id` move (on
    Databricks, no Delta commit touches their files and the change data feed shows nothing)."""
    messages = [
        SCHEMA,
        *(
            record_message("invoices", invoice("B1", f"I{i}"), f"2024-05-01T00:00:0{i}Z")
            for i in range(3)
        ),
        state_message({"bookmarks": {"invoices": 3}}),
    ]
    run_cli(warehouse, messages)
    before = {t: rows(warehouse, t) for t in ("invoices", "invoice_items")}
    run_cli(warehouse, messages)
    after = {t: rows(warehouse, t) for t in ("invoices", "invoice_items")}
    assert after == before
    audit = rows(warehouse, "_load_audit", order_by="started_at, table_name")
    assert [(a["table_name"], a["rows_inserted"], a["rows_updated"]) for a in audit] == [
        ("invoice_items", 3, 0),
        ("invoices", 3, 0),
        ("invoice_items", 0, 0),
        ("invoices", 0, 0),
    ]


def test_soft_delete_then_undelete(warehouse):
    deleted = {
        "business_id": "B1",
        "id": "I1",
        "status": "DELETED",
        "_sdc_deleted_at": "2024-05-02T00:00:00Z",
    }
    run_cli(
        warehouse, [SCHEMA, record_message("invoices", invoice("B1", "I1"), "2024-05-01T00:00:00Z")]
    )
    run_cli(warehouse, [SCHEMA, record_message("invoices", deleted, "2024-05-02T00:00:00Z")])
    (row,) = rows(warehouse, "invoices")
    assert row["_is_deleted"] and row["status"] == "DELETED"
    assert row["total"] == Decimal("10.00"), "a deletion keeps the last known values"
    assert row["_deleted_at"].isoformat() == "2024-05-02T00:00:00+00:00"
    assert all(i["_is_deleted"] for i in rows(warehouse, "invoice_items"))
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", total="11"), "2024-05-03T00:00:00Z"),
        ],
    )
    (row,) = rows(warehouse, "invoices")
    assert not row["_is_deleted"] and row["_deleted_at"] is None and row["status"] == "SENT"
    assert [i["_is_deleted"] for i in rows(warehouse, "invoice_items")] == [False]
    audit = rows(warehouse, "_load_audit", order_by="started_at", where="table_name = 'invoices'")
    assert [(a["rows_inserted"], a["rows_updated"], a["rows_deleted"]) for a in audit] == [
        (1, 0, 0),
        (0, 0, 1),
        (0, 1, 0),
    ]


def test_removed_invoice_lines_stop_being_current(warehouse):
    three = [{"description": d, "taxes": [{"sales_tax_id": "T", "amount": "1"}]} for d in "abc"]
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", items=three), "2024-05-01T00:00:00Z"),
        ],
    )
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message(
                "invoices",
                invoice("B1", "I1", items=[{"description": "a"}]),
                "2024-05-02T00:00:00Z",
            ),
        ],
    )
    current = rows(warehouse, "invoice_items", where="NOT _is_deleted")
    assert [r["description"] for r in current] == ["a"]
    assert len(rows(warehouse, "invoice_items")) == 3
    assert rows(warehouse, "invoice_item_taxes", where="NOT _is_deleted") == []


def test_activate_version_retires_missing_rows_only_in_the_businesses_it_covered(warehouse):
    first = [
        record_message("invoices", invoice(b, i), "2024-05-01T00:00:00Z", version=1)
        for b in ("B1", "B2")
        for i in ("I1", "I2")
    ]
    run_cli(
        warehouse,
        [SCHEMA, *first, {"type": "ACTIVATE_VERSION", "stream": "invoices", "version": 1}],
    )
    second = [record_message("invoices", invoice("B1", "I1"), "2024-05-02T00:00:00Z", version=2)]
    run_cli(
        warehouse,
        [SCHEMA, *second, {"type": "ACTIVATE_VERSION", "stream": "invoices", "version": 2}],
    )
    live = [
        (r["business_id"], r["id"]) for r in rows(warehouse, "invoices", where="NOT _is_deleted")
    ]
    assert live == [("B1", "I1"), ("B2", "I1"), ("B2", "I2")]
    gone_items = rows(warehouse, "invoice_items", where="_is_deleted")
    assert [(r["business_id"], r["invoice_id"]) for r in gone_items] == [("B1", "I2")]


def test_a_new_column_mid_stream_is_added(warehouse):
    wider = {
        **INVOICE_SCHEMA,
        "properties": {**INVOICE_SCHEMA["properties"], "memo": {"type": ["string", "null"]}},
    }
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1")),
            schema_message("invoices", wider),
            record_message("invoices", invoice("B1", "I2", memo="hello")),
        ],
    )
    assert [(r["id"], r["memo"]) for r in rows(warehouse, "invoices")] == [
        ("I1", None),
        ("I2", "hello"),
    ]
