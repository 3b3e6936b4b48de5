"""Only what changed is rewritten (on Databricks every rewrite is a Delta commit and a change data
feed entry), while newer-wins, removed lines and ACTIVATE_VERSION keep their meaning. Each test
runs on DuckDB and on the Databricks simulator (Spark's analyzer checking every statement)."""

from __future__ import annotations

from target_databricks_upsert.testing import (
    INVOICE_SCHEMA,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
)

SCHEMA = schema_message("invoices", INVOICE_SCHEMA)
LINES = [{"description": "design", "quantity": "2"}, {"description": "hosting", "quantity": "1"}]


def _written(warehouse, table: str) -> dict[tuple, tuple]:
    """Each row's key -> (its write stamp, its content columns)."""
    found = rows(warehouse, table)
    return {
        (r["business_id"], r.get("id") or r.get("invoice_id"), r.get("line_number")): (
            r["_updated_at"],
            r["_load_id"],
            r["_sequence"],
            r["_is_deleted"],
            r.get("description"),
            r.get("total"),
        )
        for r in found
    }


def test_a_changed_line_of_an_unchanged_invoice_rewrites_only_that_line(warehouse):
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", items=LINES), "2024-05-01T00:00:00Z"),
        ],
    )
    before_invoice, before_lines = (
        _written(warehouse, "invoices"),
        _written(warehouse, "invoice_items"),
    )
    edited = [LINES[0], {"description": "hosting (yearly)", "quantity": "1"}]
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", items=edited), "2024-05-02T00:00:00Z"),
        ],
    )
    assert _written(warehouse, "invoices") == before_invoice  # not touched
    after_lines = _written(warehouse, "invoice_items")
    assert after_lines[("B1", "I1", 1)] == before_lines[("B1", "I1", 1)]
    assert after_lines[("B1", "I1", 2)][4] == "hosting (yearly)"
    assert after_lines[("B1", "I1", 2)][0] > before_lines[("B1", "I1", 2)][0]
    audit = {
        (a["table_name"], a["rows_inserted"], a["rows_updated"], a["rows_deleted"])
        for a in rows(warehouse, "_load_audit")
        if a["load_id"] == after_lines[("B1", "I1", 2)][1]
    }
    assert audit == {("invoices", 0, 0, 0), ("invoice_items", 0, 1, 0)}


def test_a_line_removed_from_an_unchanged_invoice_is_no_longer_current(warehouse):
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", items=LINES), "2024-05-01T00:00:00Z"),
        ],
    )
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message(
                "invoices", invoice("B1", "I1", items=LINES[:1]), "2024-05-02T00:00:00Z"
            ),
        ],
    )
    lines = _written(warehouse, "invoice_items")
    assert not lines[("B1", "I1", 1)][3] and lines[("B1", "I1", 2)][3]  # line 2 deleted
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", items=LINES), "2024-05-03T00:00:00Z"),
        ],
    )
    assert not any(row[3] for row in _written(warehouse, "invoice_items").values())  # back


def test_a_stale_invoice_changes_neither_it_nor_its_lines(warehouse):
    newer = invoice("B1", "I1", total="20.00", items=LINES[:1])
    stale = invoice(
        "B1", "I1", total="10.00", items=[{"description": "old", "quantity": "9"}, *LINES]
    )
    run_cli(warehouse, [SCHEMA, record_message("invoices", newer, "2024-05-02T00:00:00Z")])
    before = {t: _written(warehouse, t) for t in ("invoices", "invoice_items")}
    run_cli(warehouse, [SCHEMA, record_message("invoices", stale, "2024-05-01T00:00:00Z")])
    assert {t: _written(warehouse, t) for t in before} == before


def test_activate_version_sent_before_the_records_as_singer_sdk_taps_send_it(warehouse):
    """singer-sdk sends ACTIVATE_VERSION when a full-table partition (a business) starts: the
    rows of older versions are retired once that business's records are in, and never the rows
    of a business the version does not cover."""

    def full_sync(version: int, day: str, ids: dict[str, list[str]]) -> list[dict]:
        messages = [SCHEMA]
        for business, invoices in ids.items():
            messages.append({"type": "ACTIVATE_VERSION", "stream": "invoices", "version": version})
            messages += [
                record_message("invoices", invoice(business, i), day, version=version)
                for i in invoices
            ]
        return messages

    run_cli(
        warehouse,
        full_sync(1, "2024-05-01T00:00:00Z", {"B1": ["I1", "I2"], "B2": ["I1"], "B3": ["I7"]}),
    )
    run_cli(warehouse, full_sync(2, "2024-05-02T00:00:00Z", {"B1": ["I1"], "B2": []}))
    live = [
        (r["business_id"], r["id"]) for r in rows(warehouse, "invoices", where="NOT _is_deleted")
    ]
    # B1's I2 is gone; B2 sent no record at all (never a reason to delete); B3 was not synced
    assert live == [("B1", "I1"), ("B2", "I1"), ("B3", "I7")]
    retired = rows(warehouse, "_load_audit", where="rows_deleted > 0")
    assert {(a["table_name"], a["business_id"], a["rows_deleted"]) for a in retired} == {
        ("invoices", "B1", 1),
        ("invoice_items", "B1", 1),
    }
