"""JSON Schemas of the records the tap emits (the analytics shapes of shaping.py).

Money amounts and Wave `Decimal`s are exact decimal strings, never floats, marked with the format
`x-singer.decimal`, which singer-sdk's SQL targets (target-postgres, target-snowflake, ...) load as
NUMERIC/DECIMAL; every per-business record carries `business_id`; `_sdc_deleted_at` is set on
deletion records. Records made from webhooks keep when the relay received the webhook in a column
of their own, `received_at` (SDK targets overwrite `_sdc_extracted_at` with their own metadata),
and in `_sdc_extracted_at` too, which target-databricks-upsert reads as `_extracted_at`.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

DECIMAL_FORMAT = "x-singer.decimal"


class DecimalString(th.StringType):
    """An exact decimal as a string, in the format singer-sdk's SQL targets map to DECIMAL."""

    string_format = DECIMAL_FORMAT


Str = th.StringType
Bool = th.BooleanType
Int = th.IntegerType
Dec = DecimalString
Date = th.DateType
DateTime = th.DateTimeType


def _props(*groups: th.Property[Any] | list[th.Property[Any]]) -> list[th.Property[Any]]:
    flat: list[th.Property[Any]] = []
    for group in groups:
        flat.extend(group if isinstance(group, list) else [group])
    return flat


def scalars(kind: type[th.JSONTypeHelper[Any]], *names: str) -> list[th.Property[Any]]:
    return [th.Property(name, kind) for name in names]


def money(*names: str) -> list[th.Property[Any]]:
    """`<name>` as an exact decimal string plus `<name>_currency`."""
    return _props(*([th.Property(n, Dec), th.Property(f"{n}_currency", Str)] for n in names))


def address(prefix: str) -> list[th.Property[Any]]:
    parts = (
        "line1",
        "line2",
        "city",
        "postal_code",
        "province_code",
        "province_name",
        "country_code",
        "country_name",
    )
    return [th.Property(f"{prefix}_{part}", Str) for part in parts]


def record(*groups: th.Property[Any] | list[th.Property[Any]]) -> dict[str, Any]:
    """A per-business record schema: business_id, the given fields, deletion marker."""
    return th.PropertiesList(
        th.Property("business_id", Str(nullable=False), required=True),
        *_props(*groups),
        th.Property("_sdc_deleted_at", DateTime, description="Set when Wave deleted the entity."),
    ).to_dict()


def nested(*groups: th.Property[Any] | list[th.Property[Any]]) -> th.ArrayType[Any]:
    return th.ArrayType(th.ObjectType(*_props(*groups)))


ID = th.Property("id", Str(nullable=False), required=True)
TIMESTAMPS = scalars(DateTime, "created_at", "modified_at")

_CONTACT = _props(
    ID,
    scalars(
        Str,
        "name",
        "first_name",
        "last_name",
        "display_id",
        "email",
        "mobile",
        "phone",
        "fax",
        "toll_free",
        "website",
        "internal_notes",
        "currency",
    ),
    address("address"),
    scalars(Str, "shipping_name", "shipping_phone", "shipping_instructions"),
    address("shipping_address"),
    th.Property("is_archived", Bool),
    TIMESTAMPS,
)

BUSINESSES = th.PropertiesList(
    th.Property(
        "business_id", Str(nullable=False), required=True, description="The Wave business id."
    ),
    *_props(
        scalars(
            Str,
            "name",
            "organizational_type",
            "type_name",
            "type_value",
            "subtype_name",
            "subtype_value",
            "currency",
            "timezone",
            "phone",
            "fax",
            "mobile",
            "toll_free",
            "website",
        ),
        address("address"),
        scalars(Bool, "is_personal", "is_archived", "email_send_enabled"),
        TIMESTAMPS,
    ),
).to_dict()

CUSTOMERS = record(_CONTACT, money("outstanding_amount", "overdue_amount"))

VENDORS = record(_CONTACT)

PRODUCTS = record(
    ID,
    scalars(Str, "name", "description"),
    th.Property("unit_price", Dec),
    scalars(Bool, "is_sold", "is_bought", "is_archived"),
    scalars(Str, "income_account_id", "expense_account_id"),
    th.Property("default_sales_taxes", nested(scalars(Str, "id", "name", "abbreviation"))),
    TIMESTAMPS,
)

ACCOUNTS = record(
    ID,
    scalars(
        Str,
        "classic_id",
        "name",
        "description",
        "display_id",
        "currency",
        "type_name",
        "type_value",
        "type_normal_balance_type",
        "subtype_name",
        "subtype_value",
        "subtype_description",
        "normal_balance_type",
    ),
    th.Property("subtype_system_created", Bool),
    th.Property("is_archived", Bool),
    th.Property("sequence", Int),
    scalars(Dec, "balance", "balance_in_business_currency"),
)

SALES_TAXES = record(
    ID,
    scalars(Str, "name", "abbreviation", "description", "tax_number"),
    th.Property("show_tax_number_on_invoices", Bool),
    th.Property("rate", Dec, description="Current rate as a fraction: 0.13 is 13%."),
    th.Property("rates", nested(th.Property("effective", Date), th.Property("rate", Dec))),
    scalars(Bool, "is_compound", "is_recoverable", "is_archived"),
    TIMESTAMPS,
)

_DOCUMENT_SETTINGS = _props(
    scalars(DateTime, "last_sent_at", "last_viewed_at"),
    scalars(Str, "last_sent_via", "item_title", "unit_title", "price_title", "amount_title"),
    scalars(
        Bool,
        "require_terms_of_service_agreement",
        "disable_credit_card_payments",
        "disable_bank_payments",
        "disable_amex_payments",
        "hide_name",
        "hide_description",
        "hide_unit",
        "hide_price",
        "hide_amount",
    ),
)
_DISCOUNTS = th.Property(
    "discounts",
    nested(
        scalars(Str, "type", "name"),
        scalars(DateTime, "created_at", "modified_at"),
        scalars(Dec, "amount", "percentage"),
    ),
)
_ITEMS = th.Property(
    "items",
    nested(
        scalars(Str, "id", "description"),
        scalars(Dec, "quantity", "unit_price"),
        scalars(Str, "account_id", "product_id"),
        money("subtotal", "total"),
        th.Property("taxes", nested(th.Property("sales_tax_id", Str), money("amount"))),
    ),
)
_DOCUMENT = _props(
    ID,
    th.Property("status", Str, description="DELETED once Wave deleted it."),
    scalars(
        Str,
        "title",
        "subhead",
        "po_number",
        "memo",
        "footer",
        "pdf_url",
        "view_url",
        "currency",
        "customer_id",
    ),
    th.Property("due_date", Date),
    th.Property("exchange_rate", Dec),
    money("subtotal", "tax_total", "discount_total", "total", "amount_due", "amount_paid"),
    _DISCOUNTS,
    _ITEMS,
    _DOCUMENT_SETTINGS,
    TIMESTAMPS,
)

INVOICES = record(
    _DOCUMENT,
    th.Property("invoice_number", Str),
    th.Property("invoice_date", Date),
    scalars(Str, "source_id", "source_type"),
    th.Property(
        "payments",
        nested(
            th.Property("id", Str),
            th.Property("amount", Dec),
            th.Property("payment_date", Date),
            scalars(Str, "payment_method", "memo"),
            th.Property("exchange_rate", Dec),
            scalars(Str, "payment_currency", "account_id"),
            TIMESTAMPS,
        ),
    ),
)

ESTIMATES = record(
    _DOCUMENT,
    th.Property("estimate_number", Str),
    th.Property("estimate_date", Date),
    money("deposit_total"),
    scalars(Str, "deposit_status", "deposit_unit", "deposit_payment_status"),
    th.Property("deposit_value", Dec),
    th.Property("dont_carry_over_notes_to_invoice", Bool),
)

RECEIVED_AT = th.Property(
    "received_at", DateTime, description="When the webhook relay received it."
)
EXTRACTED_AT = th.Property(
    "_sdc_extracted_at",
    DateTime,
    description="When the webhook relay received the event (as received_at).",
)

WEBHOOK_EVENTS = record(
    th.Property("id", Str(nullable=False), required=True, description="The event id."),
    th.Property("type", Str, description="The event type, e.g. invoice.updated."),
    th.Property("entity_id", Str, description="The Wave id of the entity the event names."),
    th.Property("created_at", DateTime, description="When Wave says the event happened."),
    RECEIVED_AT,
    th.Property("relay_seq", Int, description="Arrival order in the relay's event store."),
    th.Property("body", Str, description="The authentic request body, exactly as received."),
    EXTRACTED_AT,
)

TRANSACTIONS = record(
    ID,
    scalars(Str, "external_id", "description", "notes"),
    th.Property("date", Date),
    th.Property("anchor_account_id", Str),
    th.Property("anchor_amount", Dec),
    th.Property("anchor_direction", Str, description="DEPOSIT or WITHDRAWAL."),
    th.Property(
        "line_items",
        nested(
            scalars(Str, "account_id", "customer_id", "description"),
            th.Property("amount", Dec),
            th.Property("balance", Str, description="INCREASE, DECREASE, DEBIT or CREDIT."),
            th.Property(
                "taxes", nested(th.Property("sales_tax_id", Str), th.Property("amount", Dec))
            ),
        ),
    ),
    th.Property("created_at", DateTime),
    RECEIVED_AT,
    EXTRACTED_AT,
)
