"""tap-wave's real output, through target-databricks-upsert's real CLI, lands in the contract's tables.

Full sync, then changes in the sandbox (a payment, a removed invoice line, a deleted invoice and a
deleted customer), then an incremental run: the warehouse's live rows equal the sandbox's books.
"""

from __future__ import annotations

import pytest

from testkit.pipeline import run_tap_to_target, sandbox_invoices, warehouse_invoices, warehouse_rows
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox(wave_sandbox_factory):
    return wave_sandbox_factory(
        businesses=2, seed=21, customers=12, invoices=40, estimates=8, products=8, vendors=3
    )


@pytest.fixture
def business(sandbox):
    business_id = sandbox.business_ids()[0]
    answer = sandbox.graphql(
        """query($b: ID!) { business(id: $b) {
        invoices(pageSize: 200, status: UNPAID) { edges { node { id amountDue { value }
                 items { product { id } quantity unitPrice } } } } } }""",
        {"b": business_id},
    )
    assert not answer.get("errors"), answer["errors"]
    unpaid = [edge["node"] for edge in answer["data"]["business"]["invoices"]["edges"]]
    return BusinessChanges(sandbox, business_id), unpaid


def test_full_then_incremental_sync_matches_the_sandbox(sandbox, business, tmp_path):
    changes, unpaid = business
    warehouse = tmp_path / "warehouse.duckdb"
    spare = changes.create_customer("Soon Gone Ltd")

    state = run_tap_to_target(sandbox, tmp_path / "run1", warehouse)
    assert state and "bookmarks" in state
    assert warehouse_invoices(warehouse) == sandbox_invoices(sandbox)
    for table, connection in (
        ("customers", "customers"),
        ("products", "products"),
        ("vendors", "vendors"),
    ):
        for business_id in sandbox.business_ids():
            answer = sandbox.graphql(
                f"query($b: ID!) {{ business(id: $b) {{ {connection}"
                f"{'(isArchived: null)' if table == 'products' else ''}"
                f" {{ pageInfo {{ totalCount }} }} }} }}",
                {"b": business_id},
            )
            expected = answer["data"]["business"][connection]["pageInfo"]["totalCount"]
            (count,) = warehouse_rows(
                warehouse,
                f"SELECT count(*) FROM wave.{table} WHERE business_id = ? AND NOT _is_deleted",
                [business_id],
            )[0]
            assert count == expected, (table, business_id)

    paid, trimmed, doomed = unpaid[:3]
    changes.pay_invoice(paid["id"], paid["amountDue"]["value"])
    first_line = trimmed["items"][0]
    changes.patch_invoice(
        trimmed["id"],
        items=[
            {
                "productId": first_line["product"]["id"],
                "quantity": first_line["quantity"],
                "unitPrice": first_line["unitPrice"],
                "taxes": [],
            }
        ],
    )
    changes.delete_invoice(doomed["id"])
    changes.delete_customer(spare)

    state = run_tap_to_target(sandbox, tmp_path / "run2", warehouse, state=state)
    assert warehouse_invoices(warehouse) == sandbox_invoices(sandbox)
    ((status, is_deleted, deleted_at),) = warehouse_rows(
        warehouse,
        "SELECT status, _is_deleted, _deleted_at FROM wave.invoices WHERE id = ?",
        [doomed["id"]],
    )
    assert (status, is_deleted) == ("DELETED", True) and deleted_at is not None
    ((customer_deleted,),) = warehouse_rows(
        warehouse, "SELECT _is_deleted FROM wave.customers WHERE id = ?", [spare]
    )
    assert customer_deleted is True
    ((items_now,),) = warehouse_rows(
        warehouse,
        "SELECT count(*) FROM wave.invoice_items WHERE invoice_id = ? AND NOT _is_deleted",
        [trimmed["id"]],
    )
    assert items_now == 1

    snapshot_sql = (
        "SELECT * EXCLUDE (_updated_at, _load_id) FROM wave.invoices ORDER BY business_id, id"
    )
    before = warehouse_rows(warehouse, snapshot_sql)
    run_tap_to_target(sandbox, tmp_path / "run3", warehouse, state=state)
    assert warehouse_rows(warehouse, snapshot_sql) == before
