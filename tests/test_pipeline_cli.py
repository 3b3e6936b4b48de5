"""tap-wave's real output, through target-databricks-upsert's real CLI, lands in the contract's tables.

Full sync, then changes in the sandbox (a payment, a removed invoice line, a deleted invoice and a
deleted customer), then an incremental run: the warehouse's live rows equal the sandbox's books.
"""

from __future__ import annotations

import pytest

from bench.pipeline import run_tap_to_target, sandbox_invoices, warehouse_invoices, warehouse_rows

pytestmark = pytest.mark.slow


def mutate(sandbox, document: str, variables: dict, payload: str) -> dict:
    answer = sandbox.graphql(document, variables)
    assert not answer.get("errors"), answer["errors"]
    result = answer["data"][payload]
    assert result["didSucceed"], result["inputErrors"]
    return result


@pytest.fixture
def sandbox(wave_sandbox_factory):
    return wave_sandbox_factory(businesses=2, seed=21, customers=12, invoices=40,
                                       estimates=8, products=8, vendors=3)


@pytest.fixture
def business(sandbox):
    business_id = sandbox.business_ids()[0]
    answer = sandbox.graphql("""query($b: ID!) { business(id: $b) {
        accounts(pageSize: 200) { edges { node { id subtype { value } } } }
        invoices(pageSize: 200, status: UNPAID) { edges { node { id amountDue { value }
                 items { product { id } quantity unitPrice } } } } } }""", {"b": business_id})
    assert not answer.get("errors"), answer["errors"]
    data = answer["data"]["business"]
    cash = next(e["node"]["id"] for e in data["accounts"]["edges"]
                if e["node"]["subtype"]["value"] == "CASH_AND_BANK")
    return {"id": business_id, "cash": cash,
            "unpaid": [e["node"] for e in data["invoices"]["edges"]]}


def test_full_then_incremental_sync_matches_the_sandbox(sandbox, business, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    spare = mutate(sandbox, """mutation($input: CustomerCreateInput!) { customerCreate(input: $input)
        { didSucceed inputErrors { message } customer { id } } }""",
                   {"input": {"businessId": business["id"], "name": "Soon Gone Ltd"}},
                   "customerCreate")["customer"]["id"]

    state = run_tap_to_target(sandbox, tmp_path / "run1", warehouse)
    assert state and "bookmarks" in state
    assert warehouse_invoices(warehouse) == sandbox_invoices(sandbox)
    for table, connection in (("customers", "customers"), ("products", "products"),
                              ("vendors", "vendors")):
        for business_id in sandbox.business_ids():
            answer = sandbox.graphql(f'query($b: ID!) {{ business(id: $b) {{ {connection}'
                                     f'{"(isArchived: null)" if table == "products" else ""}'
                                     f' {{ pageInfo {{ totalCount }} }} }} }}', {"b": business_id})
            expected = answer["data"]["business"][connection]["pageInfo"]["totalCount"]
            (count,) = warehouse_rows(warehouse, f"SELECT count(*) FROM wave.{table} "
                                      "WHERE business_id = ? AND NOT _is_deleted", [business_id])[0]
            assert count == expected, (table, business_id)

    paid, trimmed, doomed = business["unpaid"][:3]
    mutate(sandbox, """mutation($input: InvoicePaymentCreateManualInput!) {
        invoicePaymentCreateManual(input: $input) { didSucceed inputErrors { message } } }""",
           {"input": {"invoiceId": paid["id"], "paymentAccountId": business["cash"],
                      "amount": paid["amountDue"]["value"], "paymentDate": "2026-11-20",
                      "paymentMethod": "BANK_TRANSFER", "exchangeRate": "1"}},
           "invoicePaymentCreateManual")
    first_line = trimmed["items"][0]
    mutate(sandbox, """mutation($input: InvoicePatchInput!) { invoicePatch(input: $input)
        { didSucceed inputErrors { message } } }""",
           {"input": {"id": trimmed["id"], "items": [{
               "productId": first_line["product"]["id"], "quantity": first_line["quantity"],
               "unitPrice": first_line["unitPrice"], "taxes": []}]}}, "invoicePatch")
    mutate(sandbox, """mutation($input: InvoiceDeleteInput!) { invoiceDelete(input: $input)
        { didSucceed inputErrors { message } } }""", {"input": {"invoiceId": doomed["id"]}},
           "invoiceDelete")
    mutate(sandbox, """mutation($input: CustomerDeleteInput!) { customerDelete(input: $input)
        { didSucceed inputErrors { message } } }""", {"input": {"id": spare}}, "customerDelete")

    state = run_tap_to_target(sandbox, tmp_path / "run2", warehouse, state=state)
    assert warehouse_invoices(warehouse) == sandbox_invoices(sandbox)
    (status, is_deleted, deleted_at), = warehouse_rows(
        warehouse, "SELECT status, _is_deleted, _deleted_at FROM wave.invoices WHERE id = ?",
        [doomed["id"]])
    assert (status, is_deleted) == ("DELETED", True) and deleted_at is not None
    (customer_deleted,), = warehouse_rows(
        warehouse, "SELECT _is_deleted FROM wave.customers WHERE id = ?", [spare])
    assert customer_deleted is True
    (items_now,), = warehouse_rows(
        warehouse, "SELECT count(*) FROM wave.invoice_items WHERE invoice_id = ? "
        "AND NOT _is_deleted", [trimmed["id"]])
    assert items_now == 1

    snapshot_sql = ("SELECT * EXCLUDE (_updated_at, _load_id) FROM wave.invoices "
                    "ORDER BY business_id, id")
    before = warehouse_rows(warehouse, snapshot_sql)
    run_tap_to_target(sandbox, tmp_path / "run3", warehouse, state=state)
    assert warehouse_rows(warehouse, snapshot_sql) == before
