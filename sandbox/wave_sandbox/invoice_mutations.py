"""Invoice and invoice-payment mutations: create, patch, delete, approve, send, mark sent, pay.

Amounts are recomputed through invoices.price_document after every change; the invoice's
``modifiedAt`` moves on every change, payments included (a payment changes amountPaid/amountDue).
Events: invoice.created/updated/deleted/approved/sent, payment.created/updated/deleted, and
invoice.paid when a payment leaves nothing due.
"""

from __future__ import annotations

from datetime import date

from .invoices import ZERO, item_taxes_at_rates, price_document
from .ledger import invalidate_balances
from .mutations import (
    business_of,
    changed,
    currency_of,
    decimal_of,
    input_error,
    mutation,
    record_of,
    stamp,
)
from .records import INVOICE_FLAGS, INVOICE_TITLES, new_invoice, new_item, new_payment
from .reference import quantize

SIMPLE_FIELDS = ("title", "subhead", "poNumber", "memo", "footer", *INVOICE_FLAGS, *INVOICE_TITLES)


def _date_of(value, field) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise input_error(field, f"Expected a date (yyyy-MM-dd), got {value!r}.") from None


def _items_of(ctx, business: dict, items: list[dict], on: date, currency: dict) -> list[dict]:
    built = []
    for n, item in enumerate(items):
        where = ["items", n]
        product = record_of(
            ctx, item["productId"], "Product", [*where, "productId"], "Product", business
        )
        quantity = decimal_of(
            item["quantity"] if item.get("quantity") is not None else 1, [*where, "quantity"]
        )
        unit_price = (
            product["_unit_price"]
            if item.get("unitPrice") is None
            else quantize(decimal_of(item["unitPrice"], [*where, "unitPrice"]), currency)
        )
        subtotal = quantity * unit_price
        if item.get("taxes") is None:
            taxes = item_taxes_at_rates(product["defaultSalesTaxes"], subtotal, on)
        else:
            taxes = []
            for m, tax in enumerate(item["taxes"]):
                sales_tax = record_of(
                    ctx,
                    tax["salesTaxId"],
                    "SalesTax",
                    [*where, "taxes", m, "salesTaxId"],
                    "Sales tax",
                    business,
                )
                (computed,) = item_taxes_at_rates([sales_tax], subtotal, on)
                if tax.get("amount") is not None:
                    amount = decimal_of(tax["amount"], [*where, "taxes", m, "amount"])
                    computed = (sales_tax, amount, computed[2])
                taxes.append(computed)
        built.append(
            new_item(
                ctx.books,
                business,
                product=product,
                quantity=quantity,
                unit_price=unit_price,
                description=item.get("description"),
                taxes=taxes,
            )
        )
    return built


def _discounts_of(ctx, discounts: list[dict] | None) -> list[dict]:
    built = []
    for n, discount in enumerate(discounts or []):
        now = stamp(ctx)
        if discount["discountType"] == "PERCENTAGE":
            value = decimal_of(discount.get("percentage"), ["discounts", n, "percentage"])
            built.append(
                {
                    "__typename": "PercentageInvoiceDiscount",
                    "name": discount.get("name"),
                    "percentage": str(value),
                    "createdAt": now,
                    "modifiedAt": now,
                }
            )
        else:
            value = decimal_of(discount.get("amount"), ["discounts", n, "amount"])
            built.append(
                {
                    "__typename": "FixedInvoiceDiscount",
                    "name": discount.get("name"),
                    "amount": str(value),
                    "createdAt": now,
                    "modifiedAt": now,
                }
            )
    return built


def _next_invoice_number(business: dict) -> str:
    numbers = [
        int(i["invoiceNumber"]) for i in business["_invoices"] if i["invoiceNumber"].isdigit()
    ]
    return str(max(numbers, default=0) + 1)


def _summary(invoice: dict) -> dict:
    return {
        "id": invoice["id"],
        "invoiceNumber": invoice["invoiceNumber"],
        "customerId": invoice["customer"]["id"],
        "total": invoice["total"]["value"],
        "amountDue": invoice["amountDue"]["value"],
    }


@mutation("invoice")
def invoice_create(ctx, data: dict) -> dict:
    business = business_of(ctx, data["businessId"])
    customer = record_of(ctx, data["customerId"], "Customer", "customerId", "Customer", business)
    currency = currency_of(data.get("currency"), "currency", business["currency"])
    invoice_date = _date_of(data.get("invoiceDate"), "invoiceDate") or ctx.today
    due_date = _date_of(data.get("dueDate"), "dueDate") or invoice_date
    if due_date < invoice_date:
        raise input_error(
            "dueDate", f"The due date {due_date} is before the invoice date {invoice_date}."
        )
    items = _items_of(ctx, business, data.get("items") or [], invoice_date, currency)
    fields = {key: data[key] for key in SIMPLE_FIELDS if data.get(key) is not None}
    if data.get("exchangeRate") is not None:
        fields["exchangeRate"] = str(
            decimal_of(data["exchangeRate"], "exchangeRate", positive=True)
        )
    invoice = new_invoice(
        ctx.books,
        business,
        customer=customer,
        number=data.get("invoiceNumber") or _next_invoice_number(business),
        invoice_date=invoice_date,
        due_date=due_date,
        items=items,
        lifecycle=data.get("status") or "DRAFT",
        created_at=stamp(ctx),
        currency=currency,
        fields=fields,
        discounts=_discounts_of(ctx, data.get("discounts")),
    )
    business["_invoices"].append(invoice)
    invalidate_balances(business)
    ctx.events.emit(business, "invoice.created", invoice["id"], _summary(invoice))
    return invoice


def _invoice(ctx, invoice_id: str, field: str = "invoiceId") -> dict:
    return record_of(ctx, invoice_id, "Invoice", field, "Invoice")


@mutation("invoice")
def invoice_patch(ctx, data: dict) -> dict:
    invoice = _invoice(ctx, data["id"], "id")
    business = invoice["business"]
    updates = {key: data[key] for key in SIMPLE_FIELDS if key in data}
    if data.get("customerId") is not None:
        updates["customer"] = record_of(
            ctx, data["customerId"], "Customer", "customerId", "Customer", business
        )
    if data.get("currency") is not None:
        updates["currency"] = currency_of(data["currency"], "currency", business["currency"])
    if data.get("exchangeRate") is not None:
        updates["exchangeRate"] = str(
            decimal_of(data["exchangeRate"], "exchangeRate", positive=True)
        )
    if data.get("invoiceNumber") is not None:
        updates["invoiceNumber"] = data["invoiceNumber"]
    invoice_date = _date_of(data.get("invoiceDate"), "invoiceDate") or invoice["_invoice_date"]
    due_date = _date_of(data.get("dueDate"), "dueDate") or invoice["_due_date"]
    if due_date < invoice_date:
        raise input_error(
            "dueDate", f"The due date {due_date} is before the invoice date {invoice_date}."
        )
    if data.get("items") is not None:
        updates["items"] = _items_of(
            ctx, business, data["items"], invoice_date, updates.get("currency", invoice["currency"])
        )
    if data.get("discounts") is not None:
        updates["discounts"] = _discounts_of(ctx, data["discounts"])
    if data.get("status") == "DRAFT" and invoice["_lifecycle"] != "DRAFT":
        raise input_error("status", "An approved invoice cannot go back to DRAFT.")
    if data.get("status") == "SAVED" and invoice["_lifecycle"] == "DRAFT":
        updates["_lifecycle"] = "SAVED"
    if "customer" in updates and updates["customer"] is not invoice["customer"]:
        invoice["customer"]["_invoices"].remove(invoice)
        updates["customer"]["_invoices"].append(invoice)
    invoice.update(
        updates,
        invoiceDate=invoice_date.isoformat(),
        _invoice_date=invoice_date,
        dueDate=due_date.isoformat(),
        _due_date=due_date,
    )
    price_document(invoice)
    return changed(ctx, invoice, business, "invoice.updated", _summary(invoice))


@mutation(None)
def invoice_delete(ctx, data: dict) -> None:
    invoice = _invoice(ctx, data["invoiceId"])
    business = invoice["business"]
    business["_invoices"].remove(invoice)
    invoice["customer"]["_invoices"].remove(invoice)
    for payment in invoice["payments"]:
        ctx.books.unindex(payment)
    ctx.books.unindex(invoice)
    invalidate_balances(business)
    ctx.events.emit(
        business,
        "invoice.deleted",
        invoice["id"],
        {"id": invoice["id"], "invoiceNumber": invoice["invoiceNumber"]},
    )


@mutation("invoice")
def invoice_approve(ctx, data: dict) -> dict:
    invoice = _invoice(ctx, data["invoiceId"])
    if invoice["_lifecycle"] != "DRAFT":
        raise input_error(
            "invoiceId",
            "Only a DRAFT invoice can be approved; this one already is.",
            "ALREADY_APPROVED",
        )
    invoice["_lifecycle"] = "SAVED"
    return changed(ctx, invoice, invoice["business"], "invoice.approved", _summary(invoice))


def _mark_sent(ctx, invoice: dict, via: str, sent_at: str | None) -> dict:
    if invoice["_lifecycle"] == "DRAFT":
        raise input_error(
            "invoiceId", "A DRAFT invoice cannot be sent; approve it first.", "NOT_APPROVED"
        )
    now = stamp(ctx)
    if invoice["_lifecycle"] == "SAVED":
        invoice["_lifecycle"] = "SENT"
    invoice.update(lastSentAt=sent_at or now, lastSentVia=via)
    return changed(ctx, invoice, invoice["business"], "invoice.sent", _summary(invoice))


@mutation("invoice")
def invoice_send(ctx, data: dict) -> dict:
    invoice = _invoice(ctx, data["invoiceId"])
    if not invoice["business"]["emailSendEnabled"]:
        raise input_error("invoiceId", "Email sending is not enabled for this business.")
    for n, address in enumerate(data["to"]):
        if "@" not in address:
            raise input_error(["to", n], f"Not an email address: {address!r}.")
    if not data["to"]:
        raise input_error("to", "Give at least one recipient.")
    return _mark_sent(ctx, invoice, "WAVE", None)


@mutation("invoice")
def invoice_mark_sent(ctx, data: dict) -> dict:
    invoice = _invoice(ctx, data["invoiceId"])
    return _mark_sent(ctx, invoice, data["sendMethod"], data.get("sentAt"))


# -- payments ----------------------------------------------------------------------------------
def _payment_object(payment: dict) -> dict:
    return {
        "id": payment["id"],
        "invoiceId": payment["invoice"]["id"],
        "amount": payment["amount"],
        "paymentDate": payment["paymentDate"],
        "paymentMethod": payment["paymentMethod"],
    }


def _deposit_account(ctx, account_id: str, business: dict) -> dict:
    account = record_of(ctx, account_id, "Account", "paymentAccountId", "Account", business)
    if account["type"]["value"] != "ASSET":
        raise input_error(
            "paymentAccountId",
            f"Account '{account['name']}' is not an asset account; payments are deposited to one.",
        )
    return account


def _after_payment_change(ctx, invoice: dict, payment: dict | None, event: str, obj: dict) -> None:
    business = invoice["business"]
    was_due = invoice["_due"]
    price_document(invoice)
    invoice["modifiedAt"] = stamp(ctx)
    if payment is not None:
        payment["modifiedAt"] = invoice["modifiedAt"]
    invalidate_balances(business)
    ctx.events.emit(business, event, obj["id"], obj)
    if was_due > ZERO and invoice["_due"] == ZERO:
        ctx.events.emit(business, "invoice.paid", invoice["id"], _summary(invoice))


@mutation("invoicePayment")
def invoice_payment_create_manual(ctx, data: dict) -> dict:
    invoice = _invoice(ctx, data["invoiceId"])
    business = invoice["business"]
    if invoice["_lifecycle"] == "DRAFT":
        raise input_error(
            "invoiceId", "A DRAFT invoice cannot take payments; approve it first.", "NOT_APPROVED"
        )
    amount = quantize(decimal_of(data["amount"], "amount", positive=True), invoice["currency"])
    payment = new_payment(
        ctx.books,
        business,
        invoice,
        amount=amount,
        payment_date=_date_of(data["paymentDate"], "paymentDate"),
        method=data["paymentMethod"],
        account=_deposit_account(ctx, data["paymentAccountId"], business),
        created_at=stamp(ctx),
        memo=data.get("memo"),
        exchange_rate=decimal_of(data["exchangeRate"], "exchangeRate", positive=True),
    )
    _after_payment_change(ctx, invoice, payment, "payment.created", _payment_object(payment))
    return payment


@mutation("invoicePayment")
def invoice_payment_patch(ctx, data: dict) -> dict:
    payment = record_of(ctx, data["id"], "InvoicePayment", "id", "Invoice payment")
    invoice = payment["invoice"]
    business = invoice["business"]
    updates: dict = {}
    if data.get("amount") is not None:
        amount = quantize(decimal_of(data["amount"], "amount", positive=True), invoice["currency"])
        updates.update(amount=str(amount), _amount=amount)
    if data.get("paymentDate") is not None:
        updates["paymentDate"] = _date_of(data["paymentDate"], "paymentDate").isoformat()
    if data.get("paymentAccountId") is not None:
        updates["account"] = _deposit_account(ctx, data["paymentAccountId"], business)
    if data.get("exchangeRate") is not None:
        rate = decimal_of(data["exchangeRate"], "exchangeRate", positive=True)
        updates.update(exchangeRate=str(rate), displayExchangeRate=str(rate))
    for key in ("paymentMethod", "memo"):
        if key in data and (key == "memo" or data[key] is not None):
            updates[key] = data[key]
    payment.update(updates)
    _after_payment_change(ctx, invoice, payment, "payment.updated", _payment_object(payment))
    return payment


@mutation(None)
def invoice_payment_delete(ctx, data: dict) -> None:
    payment = record_of(ctx, data["id"], "InvoicePayment", "id", "Invoice payment")
    invoice = payment["invoice"]
    invoice["payments"].remove(payment)
    ctx.books.unindex(payment)
    _after_payment_change(
        ctx, invoice, None, "payment.deleted", {"id": payment["id"], "invoiceId": invoice["id"]}
    )


INVOICE_MUTATIONS = {
    "invoiceCreate": invoice_create,
    "invoicePatch": invoice_patch,
    "invoiceDelete": invoice_delete,
    "invoiceApprove": invoice_approve,
    "invoiceSend": invoice_send,
    "invoiceMarkSent": invoice_mark_sent,
    "invoicePaymentCreateManual": invoice_payment_create_manual,
    "invoicePaymentPatch": invoice_payment_patch,
    "invoicePaymentDelete": invoice_payment_delete,
}
