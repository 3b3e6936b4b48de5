"""Invoice and estimate arithmetic: line items, taxes, totals, payments and derived status.

One place computes every amount, so generated books and mutated books add up the same way:
item subtotal = quantity x unit price; item total = subtotal + item taxes; invoice subtotal = sum of
item subtotals; total = subtotal - discounts + taxes; amount due = max(total - paid, 0).
Status is derived at read time from the amounts and the sandbox clock's date (so an invoice turns
OVERDUE without its ``modifiedAt`` changing, as on Wave).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .reference import money, quantize

ZERO = Decimal(0)
OPEN_LIFECYCLES = ("SAVED", "SENT", "VIEWED")


def decimal_text(value: Decimal) -> str:
    """Serialize a Decimal the way Wave's Decimal scalar does: a plain string, no exponent."""
    return format(value.normalize(), "f")


def sales_tax_rate_on(sales_tax: dict, on: date) -> Decimal:
    """The rate in force on a date: the latest rate whose effective date is on or before it."""
    current = sales_tax["_rates"][0][1]
    for effective, rate in sales_tax["_rates"]:
        if effective <= on:
            current = rate
    return current


def price_item(item: dict, currency: dict) -> None:
    """Fill an item's Money fields from ``_quantity``, ``_unit_price`` and ``_taxes``."""
    subtotal = quantize(item["_quantity"] * item["_unit_price"], currency)
    item["_subtotal"] = subtotal
    item["quantity"] = decimal_text(item["_quantity"])
    item["unitPrice"] = str(item["_unit_price"])
    item["price"] = item["unitPrice"]
    taxes = []
    tax_sum = ZERO
    for sales_tax, amount, rate in item["_taxes"]:
        amount = quantize(amount, currency)
        tax_sum += amount
        taxes.append(
            {"salesTax": sales_tax, "amount": money(amount, currency), "rate": decimal_text(rate)}
        )
    item["taxes"] = taxes
    item["_tax"] = tax_sum
    item["subtotal"] = money(subtotal, currency)
    item["total"] = money(subtotal + tax_sum, currency)


def item_taxes_at_rates(sales_taxes: list[dict], subtotal: Decimal, on: date) -> list[tuple]:
    """``(sales_tax, amount, rate)`` for each tax applied to a line at its rate on ``on``."""
    taxed = []
    for sales_tax in sales_taxes:
        rate = sales_tax_rate_on(sales_tax, on)
        taxed.append((sales_tax, subtotal * rate, rate))
    return taxed


def discount_amount(discount: dict, subtotal: Decimal) -> Decimal:
    if discount["__typename"] == "PercentageInvoiceDiscount":
        return subtotal * Decimal(discount["percentage"]) / 100
    return Decimal(discount["amount"] or 0)


def price_document(document: dict) -> None:
    """Fill an invoice's (or estimate's) totals from its items, discounts and payments."""
    currency = document["currency"]
    for item in document["items"]:
        price_item(item, currency)
    subtotal = sum((item["_subtotal"] for item in document["items"]), ZERO)
    tax = sum((item["_tax"] for item in document["items"]), ZERO)
    discount = quantize(
        sum((discount_amount(d, subtotal) for d in document.get("discounts") or []), ZERO), currency
    )
    total = subtotal - discount + tax
    paid = sum((p["_amount"] for p in document.get("payments") or []), ZERO)
    due = max(total - paid, ZERO)
    document.update(
        _subtotal=subtotal,
        _tax=tax,
        _total=total,
        _paid=paid,
        _due=due,
        subtotal=money(subtotal, currency),
        taxTotal=money(tax, currency),
        discountTotal=money(discount, currency),
        total=money(total, currency),
        amountPaid=money(paid, currency),
        amountDue=money(due, currency),
    )


def invoice_status(invoice: dict, today: date) -> str:
    """Wave's InvoiceStatus, derived from lifecycle, amounts and today's date."""
    lifecycle = invoice["_lifecycle"]
    if lifecycle == "DRAFT":
        return "DRAFT"
    if invoice["_paid"] > invoice["_total"]:
        return "OVERPAID"
    if invoice["_due"] == ZERO:
        return "PAID"
    if invoice["_due_date"] < today:
        return "OVERDUE"
    if invoice["_paid"] > ZERO:
        return "PARTIAL"
    return lifecycle


def invoice_matches_status(invoice: dict, wanted: str, today: date) -> bool:
    """The ``status`` filter: exact derived status; UNPAID = approved and something still due."""
    if wanted == "UNPAID":
        return invoice["_lifecycle"] != "DRAFT" and invoice["_due"] > ZERO
    return invoice_status(invoice, today) == wanted


def estimate_status(estimate: dict, today: date) -> str:
    """Estimate status: its lifecycle, or EXPIRED once an open estimate passes its expiry date."""
    lifecycle = estimate["_lifecycle"]
    if lifecycle in ("SENT", "VIEWED", "SAVED") and estimate["_due_date"] < today:
        return "EXPIRED"
    return lifecycle


_ESTIMATE_FILTER_GROUPS = {
    "ACTIVE": {"DRAFT", "SAVED", "SENT", "VIEWED", "ACCEPTED"},
    "APPROVED": {"ACCEPTED"},
}


def estimate_matches_status(estimate: dict, wanted: str, today: date) -> bool:
    """The estimates ``status`` filter (deposit-payment values look at the deposit paid)."""
    if wanted in ("PAID", "PARTIAL", "UNPAID"):
        paid, total = estimate["_paid"], estimate["_total"]
        state = "PAID" if paid >= total > ZERO else ("PARTIAL" if paid > ZERO else "UNPAID")
        return state == wanted
    status = estimate_status(estimate, today)
    return status in _ESTIMATE_FILTER_GROUPS.get(wanted, {wanted})
