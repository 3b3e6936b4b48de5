"""Invoices for the target's benchmarks (and the tests that load many rows): Singer lines of
invoices shaped like tap-wave's, with items, a tax per item and a payment; deterministic, so two
runs (or two warehouses) load the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from target_databricks_upsert.testing import record_message, schema_message, state_message

MONEY = {"type": ["string", "null"], "format": "singer.decimal"}
TEXT = {"type": ["string", "null"]}
BENCH_INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "business_id": {"type": "string"},
        "id": {"type": "string"},
        "invoice_number": TEXT,
        "status": TEXT,
        "customer_id": TEXT,
        "currency": TEXT,
        "invoice_date": {"type": ["string", "null"], "format": "date"},
        "modified_at": {"type": ["string", "null"], "format": "date-time"},
        "subtotal": MONEY,
        "tax_total": MONEY,
        "total": MONEY,
        "amount_due": MONEY,
        "items": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "product_id": TEXT,
                    "description": TEXT,
                    "quantity": MONEY,
                    "unit_price": MONEY,
                    "subtotal": MONEY,
                    "taxes": {
                        "type": ["array", "null"],
                        "items": {
                            "type": "object",
                            "properties": {"sales_tax_id": TEXT, "amount": MONEY},
                        },
                    },
                },
            },
        },
        "payments": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "id": TEXT,
                    "amount": MONEY,
                    "payment_date": {"type": ["string", "null"], "format": "date"},
                    "payment_method": TEXT,
                },
            },
        },
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def bench_invoice_lines(count: int, businesses: int = 10, revision: int = 0) -> Iterator[str]:
    """Singer lines (SCHEMA, then `count` invoice RECORDs with 2-3 items, a tax per item and a
    payment, a STATE every 1000) for benchmarks; deterministic. Each `revision` changes every
    invoice and its items (their modification time and descriptions, read a day later), so a
    re-sync with another revision updates them all; the same revision again changes nothing."""
    yield json.dumps(schema_message("invoices", BENCH_INVOICE_SCHEMA)) + "\n"
    for n in range(count):
        lines = 2 + n % 2
        service = f"Service {{}} (revision {revision})" if revision else "Service {}"
        items = [
            {
                "product_id": f"P{(n + k) % 50}",
                "description": service.format(k),
                "quantity": f"{k}",
                "unit_price": f"{10 + k}.50",
                "subtotal": f"{k * (10 + k)}.50",
                "taxes": [{"sales_tax_id": "GST", "amount": f"{k}.05"}],
            }
            for k in range(1, lines + 1)
        ]
        record = {
            "business_id": f"B{n % businesses}",
            "id": f"INV{n:08d}",
            "invoice_number": str(n),
            "status": "PAID",
            "customer_id": f"C{n % 300}",
            "currency": "CAD",
            "invoice_date": "2024-05-01",
            "modified_at": f"2024-05-{1 + revision:02d}T10:00:00Z",
            "subtotal": "100.00",
            "tax_total": "5.00",
            "total": "105.00",
            "amount_due": "0.00",
            "items": items,
            "payments": [
                {
                    "id": f"PAY{n}",
                    "amount": "105.00",
                    "payment_date": "2024-05-02",
                    "payment_method": "CASH",
                }
            ],
        }
        extracted = f"2024-05-{1 + revision:02d}T10:00:00.000000Z"
        yield json.dumps(record_message("invoices", record, extracted)) + "\n"
        if n % 1000 == 999:
            yield json.dumps(state_message({"bookmarks": {"invoices": n}})) + "\n"
