"""Reference data Wave serves from the root query: currencies, countries, provinces, account types.

These are fixed tables (a realistic subset), shared by every business the sandbox generates.
"""

from __future__ import annotations

from decimal import Decimal

# code: (symbol, name, plural, exponent)
_CURRENCIES = {
    "USD": ("$", "United States dollar", "United States dollars", 2),
    "CAD": ("$", "Canadian dollar", "Canadian dollars", 2),
    "EUR": ("€", "Euro", "Euros", 2),
    "GBP": ("£", "Pound sterling", "Pounds sterling", 2),
    "AUD": ("$", "Australian dollar", "Australian dollars", 2),
    "JPY": ("¥", "Yen", "Yen", 0),
    "MXN": ("$", "Mexican peso", "Mexican pesos", 2),
    "INR": ("₹", "Indian rupee", "Indian rupees", 2),
    "CHF": ("CHF", "Swiss franc", "Swiss francs", 2),
    "NZD": ("$", "New Zealand dollar", "New Zealand dollars", 2),
}

CURRENCIES: dict[str, dict] = {
    code: {"code": code, "symbol": s, "name": n, "plural": p, "exponent": e}
    for code, (s, n, p, e) in _CURRENCIES.items()
}

_PROVINCES = {
    "US": [
        ("US-CA", "California"),
        ("US-NY", "New York"),
        ("US-TX", "Texas"),
        ("US-WA", "Washington"),
        ("US-IL", "Illinois"),
        ("US-MA", "Massachusetts"),
    ],
    "CA": [
        ("CA-ON", "Ontario"),
        ("CA-QC", "Quebec"),
        ("CA-BC", "British Columbia"),
        ("CA-AB", "Alberta"),
        ("CA-NS", "Nova Scotia"),
    ],
    "GB": [("GB-ENG", "England"), ("GB-SCT", "Scotland"), ("GB-WLS", "Wales")],
}
_COUNTRIES = {
    "US": ("United States", "the United States", "USD"),
    "CA": ("Canada", "Canada", "CAD"),
    "GB": ("United Kingdom", "the United Kingdom", "GBP"),
    "FR": ("France", "France", "EUR"),
    "DE": ("Germany", "Germany", "EUR"),
    "AU": ("Australia", "Australia", "AUD"),
    "MX": ("Mexico", "Mexico", "MXN"),
}

PROVINCES: dict[str, dict] = {
    code: {"code": code, "name": name, "slug": name.lower().replace(" ", "-")}
    for provinces in _PROVINCES.values()
    for code, name in provinces
}
COUNTRIES: dict[str, dict] = {
    code: {
        "code": code,
        "name": name,
        "nameWithArticle": article,
        "currency": CURRENCIES[currency],
        "provinces": [PROVINCES[p] for p, _ in _PROVINCES.get(code, [])],
    }
    for code, (name, article, currency) in _COUNTRIES.items()
}

ACCOUNT_TYPES: dict[str, dict] = {
    value: {"name": name, "value": value, "normalBalanceType": balance}
    for value, name, balance in [
        ("ASSET", "Assets", "DEBIT"),
        ("LIABILITY", "Liabilities & Credit Cards", "CREDIT"),
        ("EQUITY", "Equity", "CREDIT"),
        ("INCOME", "Income", "CREDIT"),
        ("EXPENSE", "Expenses", "DEBIT"),
    ]
}

_SUBTYPES_BY_TYPE = {
    "ASSET": [
        "CASH_AND_BANK",
        "DEPRECIATION_AND_AMORTIZATION",
        "INVENTORY",
        "MONEY_IN_TRANSIT",
        "OTHER_CURRENT_ASSETS",
        "OTHER_LONG_TERM_ASSETS",
        "PROPERTY_PLANT_EQUIPMENT",
        "RECEIVABLE",
        "RECEIVABLE_INVOICES",
        "RECEIVABLE_OTHER",
        "TRANSFERS",
        "UNKNOWN_ACCOUNT",
        "VENDOR_PREPAYMENTS_AND_CREDITS",
    ],
    "LIABILITY": [
        "CREDIT_CARD",
        "CUSTOMER_PREPAYMENTS_AND_CREDITS",
        "DUE_FOR_PAYROLL",
        "DUE_TO_YOU_AND_OTHER_OWNERS",
        "LOANS",
        "OTHER_CURRENT_LIABILITY",
        "OTHER_LONG_TERM_LIABILITY",
        "PAYABLE",
        "PAYABLE_BILLS",
        "PAYABLE_OTHER",
        "SALES_TAX",
        "SYSTEM_CUSTOMER_CREDITS",
    ],
    "EQUITY": ["NON_RETAINED_EARNINGS", "RETAINED_EARNINGS"],
    "INCOME": [
        "DISCOUNTS",
        "GAIN_ON_FOREIGN_EXCHANGE",
        "INCOME",
        "OTHER_INCOME",
        "UNCATEGORIZED_INCOME",
    ],
    "EXPENSE": [
        "COST_OF_GOODS_SOLD",
        "EXPENSE",
        "LOSS_ON_FOREIGN_EXCHANGE",
        "PAYMENT_PROCESSING_FEES",
        "PAYROLL_EXPENSES",
        "UNCATEGORIZED_EXPENSE",
    ],
}
_SYSTEM_SUBTYPES = {
    "RECEIVABLE_INVOICES",
    "PAYABLE_BILLS",
    "SALES_TAX",
    "RETAINED_EARNINGS",
    "SYSTEM_CUSTOMER_CREDITS",
    "UNKNOWN_ACCOUNT",
    "TRANSFERS",
}

ACCOUNT_SUBTYPES: dict[str, dict] = {
    value: {
        "name": value.replace("_", " ").title(),
        "value": value,
        "type": ACCOUNT_TYPES[type_value],
        "archivable": value not in _SYSTEM_SUBTYPES,
        "systemCreated": value in _SYSTEM_SUBTYPES,
        "description": None,
    }
    for type_value, subtypes in _SUBTYPES_BY_TYPE.items()
    for value in subtypes
}


def minor_units(amount: Decimal, currency: dict) -> Decimal:
    return (amount * (Decimal(10) ** currency["exponent"])).to_integral_value()


def quantize(amount: Decimal, currency: dict) -> Decimal:
    """Round half-up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-currency["exponent"]), rounding="ROUND_HALF_UP")


def money(amount: Decimal, currency: dict) -> dict:
    """A Wave ``Money`` object: value as a major-unit string, minorUnitValue, raw, currency."""
    amount = quantize(amount, currency)
    minor = minor_units(amount, currency)
    return {
        "value": str(amount),
        "minorUnitValue": str(minor),
        "raw": int(minor),
        "currency": currency,
    }
