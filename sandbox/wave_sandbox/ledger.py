"""Account balances derived from the books, so the chart of accounts agrees with the invoices.

Approved (non-draft) invoices debit Accounts Receivable with their total and credit each item's
income account with its subtotal and each sales tax's liability account with its tax; discounts
debit the Discounts account. Payments debit their deposit account and credit Receivable.
Money transactions post their anchor and line items. Balances are shown in each account's normal
direction (debit-normal: debits - credits). Mutations reset the business's cached balances.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

ZERO = Decimal(0)


def _subtype_account(business: dict, subtype: str) -> dict | None:
    return next((a for a in business["_accounts"] if a["subtype"]["value"] == subtype), None)


def compute_balances(business: dict) -> dict[str, Decimal]:
    """Net debit (debits - credits) per account id."""
    debit: dict[str, Decimal] = defaultdict(lambda: ZERO)
    receivable = _subtype_account(business, "RECEIVABLE_INVOICES")
    discounts = _subtype_account(business, "DISCOUNTS")
    for invoice in business["_invoices"]:
        if invoice["_lifecycle"] == "DRAFT":
            continue
        debit[receivable["id"]] += invoice["_total"]
        discount_total = Decimal(invoice["discountTotal"]["value"])
        if discount_total and discounts is not None:
            debit[discounts["id"]] += discount_total
        for item in invoice["items"]:
            debit[item["account"]["id"]] -= item["_subtotal"]
            for tax in item["taxes"]:
                debit[tax["salesTax"]["_account"]["id"]] -= Decimal(tax["amount"]["value"])
        for payment in invoice["payments"]:
            debit[payment["account"]["id"]] += payment["_amount"]
            debit[receivable["id"]] -= payment["_amount"]
    for transaction in business["_transactions"]:
        for account_id, amount in transaction["_postings"]:
            debit[account_id] += amount
    return debit


def account_balance(account: dict) -> Decimal:
    business = account["business"]
    if business.get("_balances") is None:
        business["_balances"] = compute_balances(business)
    net_debit = business["_balances"].get(account["id"], ZERO)
    return net_debit if account["normalBalanceType"] == "DEBIT" else -net_debit


def invalidate_balances(business: dict) -> None:
    business["_balances"] = None
