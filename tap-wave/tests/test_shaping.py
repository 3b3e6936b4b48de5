"""Wave shapes become the warehouse contract's analytics shapes."""

from __future__ import annotations

import decimal

import pytest
from tap_wave import schemas
from tap_wave.shaping import conform, shape, snake_case

ADDRESS = {
    "addressLine1": "1 Main St",
    "addressLine2": None,
    "city": "Toronto",
    "postalCode": "M5V",
    "province": {"code": "CA-ON", "name": "Ontario"},
    "country": {"code": "CA", "name": "Canada"},
}


def money(value: str, code: str = "CAD") -> dict:
    return {"value": value, "currency": {"code": code}}


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("invoiceNumber", "invoice_number"),
        ("balanceInBusinessCurrency", "balance_in_business_currency"),
        ("isArchived", "is_archived"),
        ("id", "id"),
        ("addressLine1", "address_line1"),
    ],
)
def test_snake_case(camel, snake):
    assert snake_case(camel) == snake


def test_money_becomes_exact_amount_and_currency_code():
    assert shape({"amountDue": money("12.50", "USD")}) == {
        "amount_due": "12.50",
        "amount_due_currency": "USD",
    }


def test_currency_becomes_its_code_and_references_their_id():
    assert shape(
        {"currency": {"code": "EUR"}, "customer": {"id": "Q3U6MQ=="}, "incomeAccount": {"id": "A1"}}
    ) == {"currency": "EUR", "customer_id": "Q3U6MQ==", "income_account_id": "A1"}


def test_addresses_are_flattened_with_their_prefix():
    shaped = shape(
        {
            "address": ADDRESS,
            "shippingDetails": {
                "name": "Dock",
                "phone": None,
                "instructions": "rear",
                "address": ADDRESS,
            },
        }
    )
    assert shaped["address_line1"] == "1 Main St"
    assert shaped["address_line2"] is None
    assert shaped["address_city"] == "Toronto"
    assert shaped["address_province_code"] == "CA-ON"
    assert shaped["address_country_name"] == "Canada"
    assert shaped["address_postal_code"] == "M5V"
    assert shaped["shipping_name"] == "Dock"
    assert shaped["shipping_address_city"] == "Toronto"
    assert shaped["shipping_address_province_name"] == "Ontario"
    columns = set(schemas.CUSTOMERS["properties"])
    assert set(shaped) <= columns


def test_child_lists_stay_nested_and_are_shaped_alike():
    node = {
        "id": "I1",
        "source": {"__typename": "Estimate", "id": "E1"},
        "discounts": [
            {
                "__typename": "FixedInvoiceDiscount",
                "name": "loyal",
                "amount": "5.00",
                "createdAt": None,
                "modifiedAt": None,
            }
        ],
        "items": [
            {
                "id": "L1",
                "quantity": "2",
                "unitPrice": "10.00",
                "product": {"id": "P1"},
                "account": {"id": "A1"},
                "subtotal": money("20.00"),
                "total": money("22.60"),
                "taxes": [{"salesTax": {"id": "T1"}, "amount": money("2.60")}],
            }
        ],
        "payments": [
            {
                "id": "PAY1",
                "amount": "22.60",
                "paymentCurrency": {"code": "CAD"},
                "account": {"id": "A9"},
            }
        ],
    }
    shaped = shape(node)
    assert shaped["source_id"] == "E1"
    assert shaped["source_type"] == "Estimate"
    assert shaped["discounts"] == [
        {
            "type": "FixedInvoiceDiscount",
            "name": "loyal",
            "amount": "5.00",
            "created_at": None,
            "modified_at": None,
        }
    ]
    assert shaped["items"] == [
        {
            "id": "L1",
            "quantity": "2",
            "unit_price": "10.00",
            "product_id": "P1",
            "account_id": "A1",
            "subtotal": "20.00",
            "subtotal_currency": "CAD",
            "total": "22.60",
            "total_currency": "CAD",
            "taxes": [{"sales_tax_id": "T1", "amount": "2.60", "amount_currency": "CAD"}],
        }
    ]
    assert shaped["payments"] == [
        {"id": "PAY1", "amount": "22.60", "payment_currency": "CAD", "account_id": "A9"}
    ]


def test_null_objects_and_money_without_currency_do_not_break_shaping():
    assert shape({"address": None, "total": {"value": "1.00", "currency": None}}) == {
        "address": None,
        "total": "1.00",
        "total_currency": None,
    }


def test_decimals_are_exact_strings_never_floats():
    record = shape(
        {
            "unitPrice": decimal.Decimal("19.990"),
            "balance": 3,
            "rates": [{"effective": "2024-01-01", "rate": decimal.Decimal("0.13")}],
            "name": "x",
        }
    )
    conform(record, schemas.PRODUCTS)
    assert record["unit_price"] == "19.990"
    conform(record, schemas.ACCOUNTS)
    assert record["balance"] == "3"
    conform(record, schemas.SALES_TAXES)
    assert record["rates"] == [{"effective": "2024-01-01", "rate": "0.13"}]


def test_null_objects_leave_no_stray_column():
    record = conform(shape({"id": "I", "source": None, "customer": {"id": "C"}}), schemas.INVOICES)
    assert record == {"id": "I", "customer_id": "C"}


def test_a_float_for_a_decimal_field_is_refused():
    with pytest.raises(TypeError, match="field balance: expected an exact decimal"):
        conform({"balance": 0.1}, schemas.ACCOUNTS)


def test_money_fields_are_singer_decimals_in_the_schema():
    properties = schemas.INVOICES["properties"]
    assert properties["total"] == {"type": ["string", "null"], "format": "x-singer.decimal"}
    assert properties["total_currency"]["type"] == ["string", "null"]
    item = properties["items"]["items"]["properties"]
    assert item["taxes"]["items"]["properties"]["amount"]["format"] == "x-singer.decimal"
