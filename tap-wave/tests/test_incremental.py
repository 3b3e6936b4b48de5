"""Second runs with the state of the first: only what changed, deletions found, other
businesses left alone, silent status changes re-read."""

from __future__ import annotations

import datetime

import pytest
from tap_wave.tap import TapWave
from tap_wave.testing import access_config, operation_requests, sandbox_totals

SMALL = {
    "businesses": 2,
    "customers": 10,
    "vendors": 3,
    "products": 5,
    "invoices": 24,
    "estimates": 5,
}
INCREMENTAL = ("customers", "vendors", "products", "sales_taxes", "invoices", "estimates")


def mutate(sandbox, mutation: str, input_: dict, payload: str = "") -> dict:
    answer = sandbox.graphql(
        f"mutation($input: {mutation[0].upper() + mutation[1:]}Input!) "
        f"{{ {mutation}(input: $input) {{ didSucceed inputErrors {{ path message }} {payload} }} }}",
        {"input": input_},
    )
    assert "errors" not in answer, answer
    result = answer["data"][mutation]
    assert result["didSucceed"], result
    return result


def asset_account(sandbox, business_id: str) -> str:
    answer = sandbox.graphql(
        "query($id: ID!) { business(id: $id) { accounts(types: [ASSET]) "
        "{ edges { node { id subtype { value } } } } } }",
        {"id": business_id},
    )
    nodes = [e["node"] for e in answer["data"]["business"]["accounts"]["edges"]]
    return next(n["id"] for n in nodes if n["subtype"]["value"] == "CASH_AND_BANK")


def partitions(state: dict, stream: str) -> dict[str, dict]:
    return {
        p["context"]["business_id"]: p
        for p in state["bookmarks"].get(stream, {}).get("partitions", [])
    }


@pytest.fixture
def books(wave_sandbox_factory):
    return wave_sandbox_factory(**SMALL)


def test_second_run_emits_only_what_changed(books, tap):
    config = access_config(books)
    first = tap.run(config)
    assert first.returncode == 0, first.stderr[-3000:]
    business_a, business_b = books.business_ids()
    customer = next(c for c in first.records["customers"] if c["business_id"] == business_a)
    unpaid = next(
        i
        for i in first.records["invoices"]
        if i["business_id"] == business_b
        and i["status"] in ("SENT", "VIEWED", "UNPAID", "OVERDUE", "PARTIAL")
    )

    mutate(books, "customerPatch", {"id": customer["id"], "name": "Renamed Ltd"})
    created = mutate(
        books, "customerCreate", {"businessId": business_b, "name": "New Co"}, "customer { id }"
    )["customer"]["id"]
    mutate(
        books,
        "invoicePaymentCreateManual",
        {
            "invoiceId": unpaid["id"],
            "paymentAccountId": asset_account(books, business_b),
            "amount": "1.00",
            "paymentDate": datetime.date.today().isoformat(),
            "paymentMethod": "CASH",
            "exchangeRate": "1",
        },
    )

    before = books.stats()
    second = tap.run(config, first.state)
    cost = operation_requests(before, books.stats())
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.ids("customers") == {customer["id"], created}
    assert {r["name"] for r in second.records["customers"]} == {"Renamed Ltd", "New Co"}
    assert second.ids("invoices") == {unpaid["id"]}
    paid = second.records["invoices"][0]
    assert paid["amount_paid"] != unpaid["amount_paid"]
    assert len(paid["payments"]) == len(unpaid["payments"]) + 1
    for stream in ("vendors", "products", "sales_taxes", "estimates"):
        assert second.ids(stream) == set(), stream
    assert len(second.records["accounts"]) == sum(
        n for (s, _), n in sandbox_totals(books).items() if s == "accounts"
    )
    # one page per windowed stream and business, one id pass page each, accounts in full
    assert cost["Customers"] == cost["Invoices"] == cost["Estimates"] == 2
    assert cost["CustomerIds"] == cost["InvoiceIds"] == cost["EstimateIds"] == 2
    assert "Invoice" not in cost, "nothing changed silently: no single-invoice re-read"

    third = tap.run(config, second.state)
    assert third.returncode == 0, third.stderr[-3000:]
    for stream in INCREMENTAL:
        assert third.ids(stream) == set(), stream


def test_deletions_are_emitted_after_wave_deletes(books, tap):
    config = access_config(books)
    first = tap.run(config)
    assert first.returncode == 0, first.stderr[-3000:]
    business_a, business_b = books.business_ids()
    invoices_a = [i for i in first.records["invoices"] if i["business_id"] == business_a]
    doomed_invoice = invoices_a[0]
    with_payment = next(i for i in invoices_a[1:] if i["payments"])
    billed = {i["customer_id"] for i in first.records["invoices"]}
    doomed_customer = next(
        c
        for c in first.records["customers"]
        if c["business_id"] == business_a and c["id"] not in billed
    )

    mutate(books, "invoiceDelete", {"invoiceId": doomed_invoice["id"]})
    mutate(books, "customerDelete", {"id": doomed_customer["id"]})
    mutate(books, "invoicePaymentDelete", {"id": with_payment["payments"][0]["id"]})

    second = tap.run(config, first.state)
    assert second.returncode == 0, second.stderr[-3000:]
    deleted_invoice = next(i for i in second.records["invoices"] if i["id"] == doomed_invoice["id"])
    assert deleted_invoice["status"] == "DELETED"
    assert deleted_invoice["_sdc_deleted_at"]
    assert deleted_invoice["business_id"] == business_a
    deleted_customer = next(
        c for c in second.records["customers"] if c["id"] == doomed_customer["id"]
    )
    assert deleted_customer["_sdc_deleted_at"]
    reread = next(i for i in second.records["invoices"] if i["id"] == with_payment["id"])
    assert [p["id"] for p in reread["payments"]] == [p["id"] for p in with_payment["payments"][1:]]
    assert not any(
        r.get("_sdc_deleted_at")
        for stream in second.records.values()
        for r in stream
        if r["business_id"] == business_b
    )

    third = tap.run(config, second.state)
    assert not any(r.get("_sdc_deleted_at") for stream in third.records.values() for r in stream)


def test_a_run_over_some_businesses_leaves_the_others_untouched(books, tap):
    config = access_config(books)
    first = tap.run(config)
    business_a, business_b = books.business_ids()
    invoice_b = next(i for i in first.records["invoices"] if i["business_id"] == business_b)
    mutate(books, "invoiceDelete", {"invoiceId": invoice_b["id"]})

    only_a = tap.run(access_config(books, business_ids=[business_a]), first.state)
    assert only_a.returncode == 0, only_a.stderr[-3000:]
    assert {business_a} == {r["business_id"] for rows in only_a.records.values() for r in rows}
    for stream in INCREMENTAL:
        assert (
            partitions(only_a.state, stream)[business_b]
            == partitions(first.state, stream)[business_b]
        ), stream

    everyone = tap.run(config, only_a.state)
    assert invoice_b["id"] in {
        i["id"] for i in everyone.records["invoices"] if i.get("_sdc_deleted_at")
    }


def test_invoices_turning_overdue_are_re_read(books, tap):
    config = access_config(books)
    first = tap.run(config)
    assert first.returncode == 0, first.stderr[-3000:]
    books.advance_clock(60 * 86400)
    truth = {i["id"]: i["status"] for i in tap.run(config).records["invoices"]}
    turned = {i["id"] for i in first.records["invoices"] if truth[i["id"]] != i["status"]}
    assert turned, "the clock advance should make some invoice overdue"

    second = tap.run(config, first.state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.ids("invoices") == turned
    assert all(i["status"] == truth[i["id"]] for i in second.records["invoices"])

    without = tap.run(access_config(books, reread_open_invoices=False), first.state)
    assert without.ids("invoices") == set()


def test_records_leaving_the_window_while_paging_are_neither_skipped_nor_repeated(books, caplog):
    business = books.business_ids()[0]
    tap = TapWave(config=access_config(books, business_ids=[business], page_size=3))
    customers = tap.streams["customers"]
    records = customers.get_records({"business_id": business})
    seen = [next(records)["id"] for _ in range(4)]  # page 2 is being read
    mutate(books, "customerPatch", {"id": seen[0], "name": "Moved out of the window"})
    seen += [record["id"] for record in records]

    expected = {
        c["id"]
        for c in tap.wave.client.paginate(
            "query($b: ID!, $page: Int!, $pageSize: Int!) { business(id: $b) { customers("
            "page: $page, pageSize: $pageSize) { pageInfo { currentPage totalPages totalCount } "
            "edges { node { id } } } } }",
            {"b": business},
            connection=("business", "customers"),
            page_size=50,
            operation="check",
            stats=customers.stats,
        )
    }
    assert len(seen) == len(set(seen)), "no record emitted twice"
    assert set(seen) == expected, "no record skipped"
    assert "reading the window again" in caplog.text
