"""Read-side resolvers: the root query fields, business sub-queries and derived fields.

Records are dicts, so graphql-core's default resolver serves most fields; only fields whose
answer depends on arguments (connections, lookups by id) or on the clock (status, overdue
amounts, sales-tax rate) get a resolver here. ``info.context`` is the server's ``RequestContext``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from graphql import GraphQLResolveInfo, GraphQLSchema

from . import connections as conn
from .errors import bad_user_input, not_found
from .invoices import (
    ZERO,
    estimate_matches_status,
    estimate_status,
    invoice_matches_status,
    invoice_status,
    sales_tax_rate_on,
)
from .ledger import account_balance
from .reference import (
    ACCOUNT_SUBTYPES,
    ACCOUNT_TYPES,
    COUNTRIES,
    CURRENCIES,
    PROVINCES,
    money,
    quantize,
)
from .scopes import enforce_read_scopes


def _today(info: GraphQLResolveInfo) -> date:
    return info.context.today


def _page(info, records, page, page_size) -> dict:
    conn.check_paging(page, page_size, info.context.page_size_max)
    return conn.connection(records, page, page_size)


def _child(info, business, record_id, type_name, label):
    record = info.context.books.find(record_id, type_name, business)
    if record is None:
        raise not_found(f"{label} '{record_id}' could not be found.")
    return record


def _date_argument(name: str, value) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad_user_input(f"Argument '{name}' is not a date (yyyy-MM-dd): {value!r}.") from None


def _decimal_argument(name: str, value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise bad_user_input(f"Argument '{name}' is not a decimal number: {value!r}.") from None


# -- root query -------------------------------------------------------------------------------
def resolve_businesses(_root, info, page=1, pageSize=10, isArchived=None):
    records = conn.archived_filter(info.context.books.businesses, isArchived)
    return _page(info, records, page, pageSize)


def resolve_business(_root, info, id=None):
    business = info.context.books.business(id)
    if business is None:
        raise not_found(f"Business '{id}' could not be found.")
    return business


def resolve_currency(_root, _info, code):
    return CURRENCIES.get(code)


def resolve_country(_root, _info, code):
    return COUNTRIES.get(code)


def resolve_province(_root, _info, code):
    return PROVINCES.get(code)


# -- business sub-queries ---------------------------------------------------------------------
def resolve_customers(
    business,
    info,
    page=1,
    pageSize=45,
    sort=("CREATED_AT_DESC",),
    email=None,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
):
    records = conn.modified_between(business["_customers"], modifiedAtAfter, modifiedAtBefore)
    if email is not None:
        records = [r for r in records if (r["email"] or "").lower() == email.lower()]
    records = conn.sorted_by(records, sort, conn.CREATED_MODIFIED_NAME_KEYS)
    return _page(info, records, page, pageSize)


def resolve_vendors(
    business, info, page=1, pageSize=45, email=None, modifiedAtAfter=None, modifiedAtBefore=None
):
    records = conn.modified_between(business["_vendors"], modifiedAtAfter, modifiedAtBefore)
    if email is not None:
        records = [r for r in records if (r["email"] or "").lower() == email.lower()]
    return _page(info, records, page, pageSize)


def resolve_products(
    business,
    info,
    page=1,
    pageSize=45,
    sort=("CREATED_AT_DESC",),
    isSold=None,
    isBought=None,
    isArchived=False,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
):
    records = conn.modified_between(business["_products"], modifiedAtAfter, modifiedAtBefore)
    records = conn.archived_filter(records, isArchived)
    if isSold is not None:
        records = [r for r in records if r["isSold"] == isSold]
    if isBought is not None:
        records = [r for r in records if r["isBought"] == isBought]
    records = conn.sorted_by(records, sort, conn.CREATED_MODIFIED_NAME_KEYS)
    return _page(info, records, page, pageSize)


def resolve_accounts(
    business,
    info,
    page=1,
    pageSize=45,
    subtypes=None,
    excludedSubtypes=None,
    types=None,
    isArchived=False,
):
    records = conn.archived_filter(business["_accounts"], isArchived)
    if subtypes is not None:
        records = [r for r in records if r["subtype"]["value"] in subtypes]
    if excludedSubtypes is not None:
        records = [r for r in records if r["subtype"]["value"] not in excludedSubtypes]
    if types is not None:
        records = [r for r in records if r["type"]["value"] in types]
    return _page(info, records, page, pageSize)


def resolve_sales_taxes(
    business,
    info,
    isArchived=False,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
    page=1,
    pageSize=45,
):
    records = conn.modified_between(business["_sales_taxes"], modifiedAtAfter, modifiedAtBefore)
    return _page(info, conn.archived_filter(records, isArchived), page, pageSize)


def _invoice_number_key(invoice: dict):
    number = invoice["invoiceNumber"]
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def resolve_invoices(
    business,
    info,
    page=1,
    pageSize=45,
    sort=("CREATED_AT_DESC",),
    status=None,
    customerId=None,
    currency=None,
    sourceId=None,
    invoiceDateStart=None,
    invoiceDateEnd=None,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
    invoiceNumber=None,
    amountDue=None,
):
    today = _today(info)
    records = conn.modified_between(business["_invoices"], modifiedAtAfter, modifiedAtBefore)
    start = _date_argument("invoiceDateStart", invoiceDateStart)
    end = _date_argument("invoiceDateEnd", invoiceDateEnd)
    due = _decimal_argument("amountDue", amountDue)
    records = [
        r
        for r in records
        if (status is None or invoice_matches_status(r, status, today))
        and (customerId is None or r["customer"]["id"] == customerId)
        and (currency is None or r["currency"]["code"] == currency)
        and (sourceId is None or (r["source"] or {}).get("id") == sourceId)
        and (start is None or r["_invoice_date"] >= start)
        and (end is None or r["_invoice_date"] <= end)
        and (invoiceNumber is None or invoiceNumber in r["invoiceNumber"])
        and (due is None or r["_due"] == due)
    ]
    keys = {
        "AMOUNT_DUE": lambda r: r["_due"],
        "AMOUNT_PAID": lambda r: r["_paid"],
        "CREATED_AT": lambda r: r["createdAt"],
        "MODIFIED_AT": lambda r: r["modifiedAt"],
        "CUSTOMER_NAME": lambda r: r["customer"]["name"].lower(),
        "DUE_AT": lambda r: r["_due_date"],
        "INVOICE_DATE": lambda r: r["_invoice_date"],
        "INVOICE_NUMBER": _invoice_number_key,
        "TOTAL": lambda r: r["_total"],
        "STATUS": lambda r: invoice_status(r, today),
    }
    return _page(info, conn.sorted_by(records, sort, keys), page, pageSize)


def resolve_estimates(
    business,
    info,
    page=1,
    pageSize=45,
    sort=None,
    status=None,
    customerId=None,
    currency=None,
    estimateDateStart=None,
    estimateDateEnd=None,
    modifiedAtAfter=None,
    modifiedAtBefore=None,
    estimateNumber=None,
    amountDue=None,
):
    today = _today(info)
    records = conn.modified_between(business["_estimates"], modifiedAtAfter, modifiedAtBefore)
    start = _date_argument("estimateDateStart", estimateDateStart)
    end = _date_argument("estimateDateEnd", estimateDateEnd)
    due = _decimal_argument("amountDue", amountDue)
    records = [
        r
        for r in records
        if (status is None or estimate_matches_status(r, status, today))
        and (customerId is None or r["customer"]["id"] == customerId)
        and (currency is None or r["currency"]["code"] == currency)
        and (start is None or r["_estimate_date"] >= start)
        and (end is None or r["_estimate_date"] <= end)
        and (estimateNumber is None or estimateNumber in r["estimateNumber"])
        and (due is None or r["_due"] == due)
    ]
    keys = {"ESTIMATE_DATE": lambda r: r["_estimate_date"], "TOTAL": lambda r: r["_total"]}
    return _page(info, conn.sorted_by(records, sort or "ESTIMATE_DATE_DESC", keys), page, pageSize)


def _lookup(type_name: str, label: str):
    def resolve(business, info, id, **_flags):
        return _child(info, business, id, type_name, label)

    return resolve


# -- derived fields ---------------------------------------------------------------------------
def resolve_invoice_status(invoice, info):
    return invoice_status(invoice, _today(info))


def resolve_estimate_status(estimate, info):
    return estimate_status(estimate, _today(info))


def _customer_amount(customer, info, overdue: bool):
    today = _today(info)
    total = ZERO
    for invoice in customer["_invoices"]:
        if invoice["_lifecycle"] == "DRAFT":
            continue
        if overdue and invoice_status(invoice, today) != "OVERDUE":
            continue
        total += invoice["_due"]
    return money(total, customer["business"]["currency"])


def resolve_sales_tax_rate(sales_tax, _info, **kwargs):
    on = _date_argument("for", kwargs.get("for")) or _today(_info)
    return str(sales_tax_rate_on(sales_tax, on))


def resolve_account_balance(account, info):
    return str(quantize(account_balance(account), account["currency"]))


def attach_read_resolvers(schema: GraphQLSchema) -> None:
    """Install the resolvers above on the schema's fields, each read behind its OAuth scope."""
    resolvers = {
        ("Query", "businesses"): resolve_businesses,
        ("Query", "business"): resolve_business,
        ("Query", "user"): lambda _r, info: info.context.user,
        ("Query", "oAuthApplication"): lambda _r, info: info.context.oauth_application,
        ("Query", "currencies"): lambda *_: list(CURRENCIES.values()),
        ("Query", "currency"): resolve_currency,
        ("Query", "countries"): lambda *_: list(COUNTRIES.values()),
        ("Query", "country"): resolve_country,
        ("Query", "province"): resolve_province,
        ("Query", "accountTypes"): lambda *_: list(ACCOUNT_TYPES.values()),
        ("Query", "accountSubtypes"): lambda *_: list(ACCOUNT_SUBTYPES.values()),
        ("Business", "customers"): resolve_customers,
        ("Business", "customer"): _lookup("Customer", "Customer"),
        ("Business", "vendors"): resolve_vendors,
        ("Business", "vendor"): _lookup("Vendor", "Vendor"),
        ("Business", "products"): resolve_products,
        ("Business", "product"): _lookup("Product", "Product"),
        ("Business", "accounts"): resolve_accounts,
        ("Business", "account"): _lookup("Account", "Account"),
        ("Business", "salesTaxes"): resolve_sales_taxes,
        ("Business", "salesTax"): _lookup("SalesTax", "Sales tax"),
        ("Business", "invoices"): resolve_invoices,
        ("Business", "invoice"): _lookup("Invoice", "Invoice"),
        ("Business", "invoicePayment"): _lookup("InvoicePayment", "Invoice payment"),
        ("Business", "estimates"): resolve_estimates,
        ("Business", "estimate"): _lookup("Estimate", "Estimate"),
        ("Business", "estimatePayment"): _lookup("EstimatePayment", "Estimate payment"),
        ("Invoice", "status"): resolve_invoice_status,
        ("AREstimate", "status"): resolve_estimate_status,
        ("Customer", "outstandingAmount"): lambda c, info: _customer_amount(c, info, False),
        ("Customer", "overdueAmount"): lambda c, info: _customer_amount(c, info, True),
        ("SalesTax", "rate"): resolve_sales_tax_rate,
        ("Account", "balance"): resolve_account_balance,
        ("Account", "balanceInBusinessCurrency"): resolve_account_balance,
    }
    for (type_name, field_name), resolver in resolvers.items():
        schema.get_type(type_name).fields[field_name].resolve = resolver
    enforce_read_scopes(schema)
