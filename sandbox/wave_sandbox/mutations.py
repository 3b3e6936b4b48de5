"""Write side: the payload convention, customers, products and money transactions.

Every mutation answers Wave's payload shape ``{<entity>, didSucceed, inputErrors}``: a problem with
the input gives ``didSucceed: false`` and ``inputErrors [{path, message, code}]`` (HTTP 200, no
``errors``), and changes nothing. A successful change stamps ``modifiedAt`` from the sandbox clock
(strictly increasing) and emits its webhook event. Invoice mutations live in invoice_mutations.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps

from graphql import GraphQLSchema

from .clock import iso_datetime, parse_datetime
from .ledger import invalidate_balances
from .records import (
    CUSTOMER_FIELDS,
    address_from_input,
    new_contact,
    new_product,
    shipping_from_input,
)
from .reference import CURRENCIES, quantize


class InputErrors(Exception):
    """Rejects a mutation's input; becomes ``inputErrors`` with ``didSucceed: false``."""

    def __init__(self, *errors: dict) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = list(errors)


def input_error(field: str | list, message: str, code: str = "INVALID") -> InputErrors:
    path = ["input", *field] if isinstance(field, list) else ["input", field]
    return InputErrors({"path": [str(p) for p in path], "message": message, "code": code})


def mutation(entity: str | None) -> Callable:
    """Wrap ``fn(ctx, input) -> record`` into a resolver returning Wave's payload."""

    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        def resolve(_root, info, input):
            try:
                record = fn(info.context, input)
            except InputErrors as rejected:
                payload = {"didSucceed": False, "inputErrors": rejected.errors}
                return {**payload, entity: None} if entity else payload
            payload = {"didSucceed": True, "inputErrors": []}
            return {**payload, entity: record} if entity else payload

        return resolve

    return decorate


# -- shared helpers ----------------------------------------------------------------------------
def stamp(ctx) -> str:
    """A modifiedAt from the sandbox clock, strictly after the previous one."""
    books = ctx.books
    now = books.clock.now()
    last = getattr(books, "last_stamp", None)
    if last is not None and now <= last:
        now = last + timedelta(milliseconds=1)
    books.last_stamp = now
    return iso_datetime(now)


def business_of(ctx, business_id: str, field: str = "businessId") -> dict:
    business = ctx.books.business(business_id)
    if business is None:
        raise input_error(field, f"Business '{business_id}' could not be found.", "NOT_FOUND")
    return business


def record_of(
    ctx, record_id: str, type_name: str, field, label: str, business: dict | None = None
) -> dict:
    record = ctx.books.find(record_id, type_name, business)
    if record is None:
        where = " in this business" if business is not None else ""
        raise input_error(field, f"{label} '{record_id}' could not be found{where}.", "NOT_FOUND")
    return record


def decimal_of(value, field, *, positive: bool = False) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise input_error(field, f"Expected a decimal number, got {value!r}.") from None
    if not number.is_finite() or (positive and number <= 0):
        raise input_error(
            field, f"Expected a {'positive ' if positive else ''}decimal number, got {value!r}."
        )
    return number


def currency_of(code: str | None, field: str, default: dict) -> dict:
    if code is None:
        return default
    if code not in CURRENCIES:
        raise input_error(
            field,
            f"Currency {code} is not available in the sandbox; use one of {', '.join(CURRENCIES)}.",
        )
    return CURRENCIES[code]


def changed(ctx, record: dict, business: dict, event: str, obj: dict | None = None) -> dict:
    record["modifiedAt"] = stamp(ctx)
    invalidate_balances(business)
    ctx.events.emit(business, event, record["id"], obj)
    return record


# -- customers ---------------------------------------------------------------------------------
def _contact_fields(ctx, data: dict, business: dict) -> dict:
    fields = {key: data[key] for key in CUSTOMER_FIELDS if key in data}
    if "address" in data:
        fields["address"] = address_from_input(data["address"])
    if "shippingDetails" in data:
        fields["shippingDetails"] = shipping_from_input(data["shippingDetails"])
    if "currency" in data:
        fields["currency"] = currency_of(data["currency"], "currency", business["currency"])
    return fields


@mutation("customer")
def customer_create(ctx, data: dict) -> dict:
    business = business_of(ctx, data["businessId"])
    if not data["name"].strip():
        raise input_error("name", "A customer needs a non-empty name.")
    now = stamp(ctx)
    customer = new_contact(
        ctx.books, business, "Customer", _contact_fields(ctx, data, business), now
    )
    business["_customers"].append(customer)
    ctx.events.emit(
        business,
        "customer.created",
        customer["id"],
        {"id": customer["id"], "name": customer["name"]},
    )
    return customer


@mutation("customer")
def customer_patch(ctx, data: dict) -> dict:
    customer = record_of(ctx, data["id"], "Customer", "id", "Customer")
    business = customer["business"]
    fields = _contact_fields(ctx, data, business)
    if "name" in fields and not (fields["name"] or "").strip():
        raise input_error("name", "A customer's name cannot be empty.")
    customer.update(fields)
    return changed(
        ctx,
        customer,
        business,
        "customer.updated",
        {"id": customer["id"], "name": customer["name"]},
    )


@mutation(None)
def customer_delete(ctx, data: dict) -> None:
    customer = record_of(ctx, data["id"], "Customer", "id", "Customer")
    if customer["_invoices"]:
        raise input_error(
            "id",
            f"Customer '{data['id']}' has {len(customer['_invoices'])} "
            "invoices; delete those first.",
            "HAS_INVOICES",
        )
    business = customer["business"]
    business["_customers"].remove(customer)
    ctx.books.unindex(customer)
    ctx.events.emit(business, "customer.deleted", customer["id"], {"id": customer["id"]})


# -- products ----------------------------------------------------------------------------------
def _account_of(ctx, account_id, business, field, wanted_type: str) -> dict | None:
    if account_id is None:
        return None
    account = record_of(ctx, account_id, "Account", field, "Account", business)
    if account["type"]["value"] != wanted_type:
        raise input_error(
            field,
            f"Account '{account['name']}' is {account['type']['value']}; "
            f"expected an {wanted_type} account.",
        )
    return account


def _sales_taxes_of(ctx, ids, business) -> list[dict]:
    return [
        record_of(ctx, tax_id, "SalesTax", ["defaultSalesTaxIds", n], "Sales tax", business)
        for n, tax_id in enumerate(ids or [])
    ]


@mutation("product")
def product_create(ctx, data: dict) -> dict:
    business = business_of(ctx, data["businessId"])
    unit_price = quantize(decimal_of(data["unitPrice"], "unitPrice"), business["currency"])
    product = new_product(
        ctx.books,
        business,
        name=data["name"],
        unit_price=unit_price,
        description=data.get("description"),
        income_account=_account_of(
            ctx, data.get("incomeAccountId"), business, "incomeAccountId", "INCOME"
        ),
        expense_account=_account_of(
            ctx, data.get("expenseAccountId"), business, "expenseAccountId", "EXPENSE"
        ),
        sales_taxes=_sales_taxes_of(ctx, data.get("defaultSalesTaxIds"), business),
        created_at=stamp(ctx),
    )
    business["_products"].append(product)
    ctx.events.emit(
        business, "product.created", product["id"], {"id": product["id"], "name": product["name"]}
    )
    return product


@mutation("product")
def product_patch(ctx, data: dict) -> dict:
    product = record_of(ctx, data["id"], "Product", "id", "Product")
    business = product["business"]
    updates: dict = {}
    if data.get("name") is not None:
        updates["name"] = data["name"]
    if "description" in data:
        updates["description"] = data["description"]
    if data.get("unitPrice") is not None:
        price = quantize(decimal_of(data["unitPrice"], "unitPrice"), business["currency"])
        updates.update(unitPrice=str(price), _unit_price=price)
    if "incomeAccountId" in data:
        account = _account_of(ctx, data["incomeAccountId"], business, "incomeAccountId", "INCOME")
        updates.update(incomeAccount=account, isSold=account is not None)
    if "expenseAccountId" in data:
        account = _account_of(
            ctx, data["expenseAccountId"], business, "expenseAccountId", "EXPENSE"
        )
        updates.update(expenseAccount=account, isBought=account is not None)
    if "defaultSalesTaxIds" in data:
        updates["defaultSalesTaxes"] = _sales_taxes_of(ctx, data["defaultSalesTaxIds"], business)
    product.update(updates)
    return changed(
        ctx, product, business, "product.updated", {"id": product["id"], "name": product["name"]}
    )


@mutation("product")
def product_archive(ctx, data: dict) -> dict:
    product = record_of(ctx, data["id"], "Product", "id", "Product")
    if product["isArchived"]:
        raise input_error("id", f"Product '{data['id']}' is already archived.", "ARCHIVED")
    product["isArchived"] = True
    return changed(
        ctx,
        product,
        product["business"],
        "product.archived",
        {"id": product["id"], "isArchived": True},
    )


# -- money transactions ------------------------------------------------------------------------
def _debit_sign(account: dict, balance: str) -> int:
    """+1 when the posting debits the account, -1 when it credits it."""
    if balance in ("DEBIT", "CREDIT"):
        return 1 if balance == "DEBIT" else -1
    increase_is_debit = account["normalBalanceType"] == "DEBIT"
    return 1 if (balance == "INCREASE") == increase_is_debit else -1


@mutation("transaction")
def money_transaction_create(ctx, data: dict) -> dict:
    business = business_of(ctx, data["businessId"])
    currency = business["currency"]
    if any(t["externalId"] == data["externalId"] for t in business["_transactions"]):
        raise input_error(
            "externalId",
            f"A transaction with externalId '{data['externalId']}' already exists.",
            "DUPLICATE",
        )
    try:
        parse_datetime(str(data["date"]))
    except ValueError:
        raise input_error("date", f"Expected a date (yyyy-MM-dd), got {data['date']!r}.") from None
    anchor = data["anchor"]
    anchor_account = record_of(
        ctx, anchor["accountId"], "Account", ["anchor", "accountId"], "Account", business
    )
    anchor_amount = quantize(
        decimal_of(anchor["amount"], ["anchor", "amount"], positive=True), currency
    )
    sign = 1 if anchor["direction"] == "DEPOSIT" else -1
    postings = [(anchor_account["id"], sign * anchor_amount)]
    lines, line_total = [], Decimal(0)
    for n, line in enumerate(data["lineItems"]):
        where = ["lineItems", n]
        account = record_of(
            ctx, line["accountId"], "Account", [*where, "accountId"], "Account", business
        )
        amount = quantize(decimal_of(line["amount"], [*where, "amount"], positive=True), currency)
        if line.get("customerId") is not None:
            record_of(
                ctx, line["customerId"], "Customer", [*where, "customerId"], "Customer", business
            )
        taxes, tax_total = [], Decimal(0)
        for m, tax in enumerate(line.get("taxes") or []):
            sales_tax = record_of(
                ctx,
                tax["salesTaxId"],
                "SalesTax",
                [*where, "taxes", m, "salesTaxId"],
                "Sales tax",
                business,
            )
            tax_amount = quantize(
                decimal_of(tax["amount"], [*where, "taxes", m, "amount"]), currency
            )
            tax_total += tax_amount
            taxes.append({"salesTaxId": sales_tax["id"], "amount": str(tax_amount)})
            tax_account = sales_tax["_account"]
            postings.append(
                (tax_account["id"], _debit_sign(tax_account, line["balance"]) * tax_amount)
            )
        postings.append(
            (account["id"], _debit_sign(account, line["balance"]) * (amount - tax_total))
        )
        line_total += amount
        lines.append(
            {
                "accountId": account["id"],
                "amount": str(amount),
                "balance": line["balance"],
                "customerId": line.get("customerId"),
                "description": line.get("description"),
                "taxes": taxes,
            }
        )
    if line_total != anchor_amount:
        raise input_error(
            "lineItems",
            f"Line items add up to {line_total} but the anchor amount "
            f"is {anchor_amount}; they must be equal.",
            "UNBALANCED",
        )
    transaction_id = ctx.books.new_id(business, "Transaction")
    obj = {
        "id": transaction_id,
        "externalId": data["externalId"],
        "date": str(data["date"]),
        "description": data["description"],
        "notes": data.get("notes"),
        "anchor": {
            "accountId": anchor_account["id"],
            "amount": str(anchor_amount),
            "direction": anchor["direction"],
        },
        "lineItems": lines,
        "createdAt": stamp(ctx),
    }
    business["_transactions"].append({**obj, "_postings": postings})
    invalidate_balances(business)
    ctx.events.emit(business, "transaction.created", transaction_id, obj)
    return {"id": transaction_id}


def attach_mutation_resolvers(schema: GraphQLSchema) -> None:
    from .invoice_mutations import INVOICE_MUTATIONS

    resolvers = {
        "customerCreate": customer_create,
        "customerPatch": customer_patch,
        "customerDelete": customer_delete,
        "productCreate": product_create,
        "productPatch": product_patch,
        "productArchive": product_archive,
        "moneyTransactionCreate": money_transaction_create,
        **INVOICE_MUTATIONS,
    }
    fields = schema.mutation_type.fields
    for name, resolver in resolvers.items():
        fields[name].resolve = resolver
