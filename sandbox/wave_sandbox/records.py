"""Constructors for the records the books hold: one place decides each record's full shape.

Both the seeded generator (books.py) and the mutations build records through these functions,
so a created customer or invoice has exactly the fields a generated one has.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .invoices import decimal_text, price_document
from .reference import COUNTRIES, PROVINCES, money
from .store import Books

CUSTOMER_FIELDS = (
    "name",
    "firstName",
    "lastName",
    "displayId",
    "email",
    "mobile",
    "phone",
    "fax",
    "tollFree",
    "website",
    "internalNotes",
)
INVOICE_FLAGS = {
    "disableCreditCardPayments": False,
    "disableBankPayments": False,
    "disableAmexPayments": False,
    "requireTermsOfServiceAgreement": False,
    "hideName": False,
    "hideDescription": False,
    "hideUnit": False,
    "hidePrice": False,
    "hideAmount": False,
}
INVOICE_TITLES = {
    "itemTitle": "Items",
    "unitTitle": "Quantity",
    "priceTitle": "Price",
    "amountTitle": "Amount",
}


def address(line1=None, line2=None, city=None, province=None, country=None, postal=None) -> dict:
    return {
        "addressLine1": line1,
        "addressLine2": line2,
        "city": city,
        "province": PROVINCES.get(province) if province else None,
        "country": COUNTRIES.get(country) if country else None,
        "postalCode": postal,
    }


def address_from_input(value: dict | None) -> dict | None:
    if value is None:
        return None
    return address(
        value.get("addressLine1"),
        value.get("addressLine2"),
        value.get("city"),
        value.get("provinceCode"),
        value.get("countryCode"),
        value.get("postalCode"),
    )


def shipping_from_input(value: dict | None) -> dict | None:
    if value is None:
        return None
    return {
        "name": value.get("name"),
        "address": address_from_input(value.get("address")),
        "phone": value.get("phone"),
        "instructions": value.get("instructions"),
    }


def new_contact(
    books: Books,
    business: dict,
    type_name: str,
    fields: dict,
    created_at: str,
    modified_at: str | None = None,
) -> dict:
    """A customer or vendor (they share Wave's contact shape)."""
    record = {key: fields.get(key) for key in CUSTOMER_FIELDS}
    record_id = books.new_id(business, type_name)
    record.update(
        id=record_id,
        business=business,
        internalId=record_id[-8:],
        currency=fields.get("currency") or business["currency"],
        address=fields.get("address"),
        shippingDetails=fields.get("shippingDetails"),
        createdAt=created_at,
        modifiedAt=modified_at or created_at,
        isArchived=False,
        _invoices=[],
    )
    return books.index(record)


def new_product(
    books: Books,
    business: dict,
    *,
    name: str,
    unit_price: Decimal,
    description: str | None,
    income_account: dict | None,
    expense_account: dict | None,
    sales_taxes: list[dict],
    created_at: str,
    modified_at: str | None = None,
    is_archived: bool = False,
) -> dict:
    record_id = books.new_id(business, "Product")
    record = {
        "id": record_id,
        "business": business,
        "internalId": record_id[-8:],
        "name": name,
        "description": description,
        "unitPrice": str(unit_price),
        "_unit_price": unit_price,
        "isSold": income_account is not None,
        "isBought": expense_account is not None,
        "isArchived": is_archived,
        "createdAt": created_at,
        "modifiedAt": modified_at or created_at,
        "incomeAccount": income_account,
        "expenseAccount": expense_account,
        "defaultSalesTaxes": list(sales_taxes),
    }
    return books.index(record)


def new_item(
    books: Books,
    business: dict,
    *,
    product: dict,
    quantity: Decimal,
    unit_price: Decimal,
    description: str | None,
    taxes: list[tuple],
) -> dict:
    """An invoice/estimate line; ``taxes`` is a list of ``(sales_tax, amount, rate)``."""
    return {
        "id": books.new_id(business, "InvoiceItem"),
        "product": product,
        "account": product["incomeAccount"] or _first_income_account(business),
        "description": description if description is not None else product["description"],
        "_quantity": quantity,
        "_unit_price": unit_price,
        "_taxes": taxes,
    }


def _first_income_account(business: dict) -> dict:
    return next(a for a in business["_accounts"] if a["type"]["value"] == "INCOME")


def new_invoice(
    books: Books,
    business: dict,
    *,
    customer: dict,
    number: str,
    invoice_date: date,
    due_date: date,
    items: list[dict],
    lifecycle: str,
    created_at: str,
    currency: dict | None = None,
    fields: dict | None = None,
    discounts: list[dict] | None = None,
) -> dict:
    record_id = books.new_id(business, "Invoice")
    token = record_id[-10:].replace("=", "")
    record = {
        "id": record_id,
        "business": business,
        "internalId": record_id[-8:],
        "customer": customer,
        "currency": currency or business["currency"],
        "exchangeRate": "1",
        "source": None,
        "title": "Invoice",
        "subhead": None,
        "invoiceNumber": number,
        "poNumber": None,
        "memo": None,
        "footer": None,
        "invoiceDate": invoice_date.isoformat(),
        "dueDate": due_date.isoformat(),
        "_invoice_date": invoice_date,
        "_due_date": due_date,
        "pdfUrl": f"https://sandbox.waveapps.test/invoices/{token}/pdf",
        "viewUrl": f"https://sandbox.waveapps.test/invoices/{token}",
        "anonymousId": token,
        "createdAt": created_at,
        "modifiedAt": created_at,
        "lastSentAt": None,
        "lastSentVia": "NOT_SENT",
        "lastViewedAt": None,
        "items": items,
        "discounts": discounts or [],
        "payments": [],
        "invoiceReminders": [],
        "attachments": [],
        "_lifecycle": lifecycle,
        **INVOICE_FLAGS,
        **INVOICE_TITLES,
    }
    record.update(fields or {})
    price_document(record)
    customer["_invoices"].append(record)
    return books.index(record)


def new_payment(
    books: Books,
    business: dict,
    invoice: dict,
    *,
    amount: Decimal,
    payment_date: date,
    method: str,
    account: dict,
    created_at: str,
    memo: str | None = None,
    exchange_rate: Decimal = Decimal(1),
) -> dict:
    record_id = books.new_id(business, "InvoicePayment")
    currency = invoice["currency"]
    record = {
        "id": record_id,
        "invoice": invoice,
        "customer": invoice["customer"],
        "amount": str(money(amount, currency)["value"]),
        "_amount": amount,
        "paymentDate": payment_date.isoformat(),
        "paymentMethod": method,
        "memo": memo,
        "exchangeRate": decimal_text(exchange_rate),
        "displayExchangeRate": decimal_text(exchange_rate),
        "origin": "MANUAL",
        "state": "ACTIVE",
        "transactionType": "PAYMENT",
        "paymentProvider": None,
        "transactionId": None,
        "confirmationCode": None,
        "institutionName": None,
        "authorizerName": None,
        "accountNumberLast3": None,
        "accountingTransactionId": books.new_id(business, "Transaction"),
        "paymentMethodId": None,
        "active": True,
        "readonlyUrl": None,
        "createdAt": created_at,
        "modifiedAt": created_at,
        "businessCurrency": business["currency"],
        "invoiceCurrency": currency,
        "paymentCurrency": currency,
        "account": account,
        "paymentDetails": None,
        "originInvoicePayment": None,
    }
    invoice["payments"].append(record)
    return books.index(record)
