"""The chaos checks (testkit/chaos_checks.py) find what they look for: a duplicated key in any
table, by the contract's keys; an emitted webhook never stored, stored but not done, or loaded
twice; a warehouse nothing was ever written to. (tests/test_chaos.py asserts they find nothing
after real kills; these show they would.)"""

from __future__ import annotations

import duckdb

from testkit.chaos_checks import compare_events, duplicated_rows, table_key

AUDIT = "_loaded_at TIMESTAMP, _sequence BIGINT, _is_deleted BOOLEAN"


def test_keys_follow_the_warehouse_contract():
    assert table_key("invoices", ["business_id", "id", "customer_id", "source_id"]) == [
        "business_id",
        "id",
    ]
    assert table_key("businesses", ["business_id", "id", "name"]) == ["business_id"]
    assert table_key(
        "invoice_item_taxes",
        ["business_id", "invoice_id", "invoice_item_line_number", "line_number", "sales_tax_id"],
    ) == ["business_id", "invoice_id", "invoice_item_line_number", "line_number"]
    assert table_key(
        "product_default_sales_taxes", ["business_id", "product_id", "line_number", "id"]
    ) == ["business_id", "product_id", "line_number"]
    assert table_key("sales_tax_rates", ["business_id", "sales_tax_id", "line_number"]) == [
        "business_id",
        "sales_tax_id",
        "line_number",
    ]
    assert table_key("_load_audit", ["load_id", "table_name", "business_id"]) == [
        "load_id",
        "table_name",
        "business_id",
    ]


def test_duplicated_keys_are_found_in_every_table(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as db:
        db.execute("CREATE SCHEMA wave")
        db.execute(f"CREATE TABLE wave.invoices (business_id VARCHAR, id VARCHAR, {AUDIT})")
        db.execute(
            "INSERT INTO wave.invoices VALUES ('b1', 'i1', now(), 1, false), "
            "('b1', 'i2', now(), 1, false), ('b2', 'i1', now(), 1, false), "
            "('b1', 'i1', now(), 2, true)"
        )  # i1 of b1 twice, one of them deleted
        db.execute(
            "CREATE TABLE wave.invoice_payments (business_id VARCHAR, invoice_id VARCHAR,"
            f" line_number BIGINT, id VARCHAR, {AUDIT})"
        )
        db.execute(
            "INSERT INTO wave.invoice_payments VALUES "
            "('b1', 'i1', 1, 'p1', now(), 1, false), ('b1', 'i1', 1, 'p2', now(), 1, false),"
            " ('b1', 'i1', 2, 'p3', now(), 1, false)"
        )  # line 1 twice, other payment ids
        db.execute("CREATE TABLE wave.customers (business_id VARCHAR, id VARCHAR, name VARCHAR)")
        db.execute("INSERT INTO wave.customers VALUES ('b1', 'c1', 'x'), ('b2', 'c1', 'x')")
    assert sorted(duplicated_rows(warehouse)) == [
        "invoice_payments (business_id, invoice_id, line_number) = ('b1', 'i1', 1) x2",
        "invoices (business_id, id) = ('b1', 'i1') x2",
    ]
    assert duplicated_rows(tmp_path / "never-written.duckdb") == []


def test_every_emitted_webhook_must_be_stored_done_and_loaded_once(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as db:
        db.execute("CREATE SCHEMA wave")
        db.execute(
            "CREATE TABLE wave.webhook_events (business_id VARCHAR, id VARCHAR, body VARCHAR)"
        )
        db.execute(
            "INSERT INTO wave.webhook_events VALUES ('b', 'e1', '{1}'), "
            "('b', 'e1', '{1}'), ('b', 'e2', '{2}'), ('b', 'e5', '{other}')"
        )
    emitted = [
        {"id": f"e{n}", "type": "invoice.updated", "attempts": n, "delivered": n < 4}
        for n in range(1, 6)
    ]
    stored = [
        {"id": "e1", "state": "done", "body": "{1}"},
        {"id": "e2", "state": "done", "body": "{2}"},
        {"id": "e3", "state": "pending", "body": "{3}"},
        {"id": "e5", "state": "done", "body": "{5}"},
        {"id": "e6", "state": "done", "body": "{6}"},
    ]
    found = compare_events(emitted, stored, warehouse)
    assert found.duplicated == ["event e1 in webhook_events 2 times"]
    assert found.lost == [
        "event e3 stored but pending",
        "event e4 (invoice.updated) never stored; 4 attempts, delivered=False",
    ]
    assert found.wrong == [
        "event e5: webhook_events body differs from stored",
        "event e6 stored, never emitted",
    ]
    nothing = compare_events(emitted[:1], stored[:1], tmp_path / "never-written.duckdb")
    assert nothing.lost == ["event e1 done but not in webhook_events"]
