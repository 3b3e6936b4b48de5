"""The generated books add up, agree with the clock, and come out the same from the same seed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

MONEY = "value minorUnitValue currency { code }"
INVOICE = f"""id status invoiceDate dueDate createdAt modifiedAt customer {{ id }}
  subtotal {{ {MONEY} }} taxTotal {{ {MONEY} }} discountTotal {{ {MONEY} }} total {{ {MONEY} }}
  amountPaid {{ {MONEY} }} amountDue {{ {MONEY} }}
  items {{ quantity unitPrice subtotal {{ value }} total {{ value }}
          taxes {{ amount {{ value }} salesTax {{ id }} }} }}
  payments {{ amount paymentDate createdAt }}"""


def data_of(answer: dict) -> dict:
    assert not answer.get("errors"), answer.get("errors")
    return answer["data"]


def invoices_of(sandbox, business_id: str) -> list[dict]:
    answer = data_of(
        sandbox.graphql(
            f"query($b: ID!) {{ business(id: $b) {{ invoices(pageSize: 200) {{ pageInfo {{ totalCount }} "
            f"edges {{ node {{ {INVOICE} }} }} }} }} }}",
            {"b": business_id},
        )
    )
    connection = answer["business"]["invoices"]
    assert connection["pageInfo"]["totalCount"] == len(connection["edges"])
    return [edge["node"] for edge in connection["edges"]]


def amount(money: dict) -> Decimal:
    return Decimal(money["value"])


@pytest.fixture(scope="module")
def today(wave_sandbox) -> date:
    return date.fromisoformat(wave_sandbox.now()[:10])


def test_every_invoice_adds_up(wave_sandbox):
    for business_id in wave_sandbox.business_ids():
        for invoice in invoices_of(wave_sandbox, business_id):
            assert 1 <= len(invoice["items"]) <= 5
            item_subtotals = Decimal(0)
            item_taxes = Decimal(0)
            for item in invoice["items"]:
                subtotal = Decimal(item["quantity"]) * Decimal(item["unitPrice"])
                assert amount(item["subtotal"]) == subtotal
                taxes = sum((amount(t["amount"]) for t in item["taxes"]), Decimal(0))
                assert amount(item["total"]) == subtotal + taxes
                item_subtotals += subtotal
                item_taxes += taxes
            assert amount(invoice["subtotal"]) == item_subtotals
            assert amount(invoice["taxTotal"]) == item_taxes
            assert amount(invoice["total"]) == (
                item_subtotals + item_taxes - amount(invoice["discountTotal"])
            )
            paid = sum((Decimal(p["amount"]) for p in invoice["payments"]), Decimal(0))
            assert amount(invoice["amountPaid"]) == paid
            assert amount(invoice["amountDue"]) == max(amount(invoice["total"]) - paid, 0)
            money = invoice["total"]
            assert Decimal(money["minorUnitValue"]) == amount(money) * 100


def test_status_agrees_with_amounts_and_dates(wave_sandbox, today):
    seen = set()
    for invoice in invoices_of(wave_sandbox, wave_sandbox.business_ids()[0]):
        status, due = invoice["status"], amount(invoice["amountDue"])
        paid, total = amount(invoice["amountPaid"]), amount(invoice["total"])
        seen.add(status)
        if status == "DRAFT":
            assert paid == 0
        elif status == "PAID":
            assert due == 0 and paid == total
        elif status == "OVERPAID":
            assert paid > total
        elif status == "OVERDUE":
            assert due > 0 and date.fromisoformat(invoice["dueDate"]) < today
        else:
            assert due > 0 and date.fromisoformat(invoice["dueDate"]) >= today
            assert (status == "PARTIAL") == (paid > 0)
        assert invoice["createdAt"] <= invoice["modifiedAt"] < wave_sandbox.now()
        for payment in invoice["payments"]:
            assert invoice["invoiceDate"] <= payment["paymentDate"]
            assert payment["createdAt"] <= invoice["modifiedAt"]
    assert {"DRAFT", "PAID", "OVERDUE"} <= seen


def test_overdue_is_derived_from_the_clock_without_touching_modified_at(wave_sandbox_factory):
    sandbox = wave_sandbox_factory(businesses=1, customers=5, invoices=30, estimates=1)
    business_id = sandbox.business_ids()[0]
    before = {i["id"]: i for i in invoices_of(sandbox, business_id)}
    sandbox.advance_clock(400 * 86400)  # every due date is now in the past
    after = invoices_of(sandbox, business_id)
    for invoice in after:
        old = before[invoice["id"]]
        assert invoice["modifiedAt"] == old["modifiedAt"]
        if amount(invoice["amountDue"]) > 0 and invoice["status"] != "DRAFT":
            assert invoice["status"] == "OVERDUE"
        else:
            assert invoice["status"] == old["status"]


def test_customer_outstanding_amounts_sum_their_invoices(wave_sandbox):
    business_id = wave_sandbox.business_ids()[1]
    invoices = invoices_of(wave_sandbox, business_id)
    customers = data_of(
        wave_sandbox.graphql(
            "query($b: ID!) { business(id: $b) { customers(pageSize: 100) { edges { node { id "
            "outstandingAmount { value } overdueAmount { value } } } } } }",
            {"b": business_id},
        )
    )
    for edge in customers["business"]["customers"]["edges"]:
        customer = edge["node"]
        mine = [
            i for i in invoices if i["customer"]["id"] == customer["id"] and i["status"] != "DRAFT"
        ]
        assert amount(customer["outstandingAmount"]) == sum(
            (amount(i["amountDue"]) for i in mine), Decimal(0)
        )
        assert amount(customer["overdueAmount"]) == sum(
            (amount(i["amountDue"]) for i in mine if i["status"] == "OVERDUE"), Decimal(0)
        )


def test_receivable_balance_equals_what_customers_owe(wave_sandbox):
    business_id = wave_sandbox.business_ids()[0]
    invoices = invoices_of(wave_sandbox, business_id)
    accounts = data_of(
        wave_sandbox.graphql(
            "query($b: ID!) { business(id: $b) { accounts(pageSize: 100, subtypes: "
            "[RECEIVABLE_INVOICES]) { edges { node { balance } } } } }",
            {"b": business_id},
        )
    )
    (receivable,) = accounts["business"]["accounts"]["edges"]
    owed = sum(
        (amount(i["total"]) - amount(i["amountPaid"]) for i in invoices if i["status"] != "DRAFT"),
        Decimal(0),
    )
    assert Decimal(receivable["node"]["balance"]) == owed


def test_sales_tax_rate_follows_its_history(wave_sandbox):
    business_id = wave_sandbox.business_ids()[0]
    taxes = data_of(
        wave_sandbox.graphql(
            "query($b: ID!) { business(id: $b) { salesTaxes(isArchived: null) { edges { node { "
            'rates { effective rate } old: rate(for: "2019-06-01") now: rate } } } } }',
            {"b": business_id},
        )
    )["business"]["salesTaxes"]["edges"]
    changed = [t["node"] for t in taxes if len(t["node"]["rates"]) > 1]
    assert changed
    for tax in changed:
        assert tax["old"] == tax["rates"][0]["rate"] and tax["now"] == tax["rates"][-1]["rate"]


def test_same_seed_same_books_other_seed_other_books(wave_sandbox_factory):
    options = {
        "businesses": 1,
        "customers": 5,
        "invoices": 20,
        "estimates": 2,
        "now": "2026-06-01T12:00:00Z",
    }
    first = wave_sandbox_factory(**options, seed=3)
    second = wave_sandbox_factory(**options, seed=3)
    third = wave_sandbox_factory(**options, seed=4)
    one, two = first.business_ids()[0], second.business_ids()[0]
    assert one == two
    assert invoices_of(first, one) == invoices_of(second, two)
    assert third.business_ids()[0] != one


def test_business_names_are_distinct_within_a_sandbox():
    from wave_sandbox.books import BookSizes, generate_books
    from wave_sandbox.clock import SandboxClock

    tiny = BookSizes(customers=1, vendors=1, products=1, invoices=1, estimates=1)
    books = generate_books(SandboxClock(), 18, 2026, tiny)
    names = [business["name"] for business in books.businesses]
    assert len(set(names)) == len(names) == 18
