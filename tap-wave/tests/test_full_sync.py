"""A full sync against the sandbox emits every record Wave has, shaped per the contract, for
the cost of one request per page."""

from __future__ import annotations

import math
import re

import fastjsonschema
import pytest
from tap_wave.testing import access_config, oauth_config, operation_requests, sandbox_totals

OPERATIONS = {
    "customers": "Customers",
    "vendors": "Vendors",
    "products": "Products",
    "accounts": "Accounts",
    "sales_taxes": "SalesTaxes",
    "invoices": "Invoices",
    "estimates": "Estimates",
}
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def assert_records_match_their_schemas(run) -> None:
    for stream, records in run.records.items():
        validate = fastjsonschema.compile(
            run.schemas[stream], formats={"x-singer.decimal": DECIMAL.pattern}
        )
        for record in records:
            validate(record)


def test_full_sync_with_a_full_access_token(wave_sandbox, tap):
    before = wave_sandbox.stats()
    run = tap.run(access_config(wave_sandbox))
    after = wave_sandbox.stats()
    assert run.returncode == 0, run.stderr[-3000:]

    totals = sandbox_totals(wave_sandbox)
    assert run.counts() == totals
    assert_records_match_their_schemas(run)

    page_size = access_config(wave_sandbox)["page_size"]
    expected = {"Businesses": 1}
    for (stream, _business), total in totals.items():
        if stream in OPERATIONS:
            pages = max(1, math.ceil(total / page_size))
            expected[OPERATIONS[stream]] = expected.get(OPERATIONS[stream], 0) + pages
    assert operation_requests(before, after) == expected
    for stream in OPERATIONS:
        assert re.search(rf"stream {stream}: \d+ records, \d+ requests, 0 retries", run.stderr)


def test_records_are_analytics_shaped(wave_sandbox, tap):
    run = tap.run(access_config(wave_sandbox, business_ids=wave_sandbox.business_ids()[:1]))
    assert run.returncode == 0, run.stderr[-3000:]
    invoice = next(i for i in run.records["invoices"] if i["items"])
    assert DECIMAL.match(invoice["total"]) and invoice["total_currency"]
    assert invoice["customer_id"] and "customer" not in invoice
    item = invoice["items"][0]
    assert DECIMAL.match(item["quantity"]) and item["product_id"] and item["account_id"]
    assert all(tax["sales_tax_id"] and DECIMAL.match(tax["amount"]) for tax in item["taxes"])
    customer = run.records["customers"][0]
    assert {"address_line1", "address_city", "address_country_code"} <= set(customer)
    assert all(not isinstance(value, dict) for value in customer.values())
    business = run.records["businesses"][0]
    assert business["business_id"] == wave_sandbox.business_ids()[0]
    assert "id" not in business


def test_archived_products_accounts_and_sales_taxes_are_read(wave_sandbox, tap):
    run = tap.run(access_config(wave_sandbox))
    assert run.returncode == 0, run.stderr[-3000:]
    for stream in ("products", "accounts", "sales_taxes"):
        flags = {r["is_archived"] for r in run.records[stream]}
        assert flags <= {True, False, None}
    archived = sum(
        r["is_archived"] is True
        for s in ("products", "accounts", "sales_taxes")
        for r in run.records[s]
    )
    active = wave_sandbox.graphql(
        "query($id: ID!) { business(id: $id) { products { pageInfo { totalCount } } } }",
        {"id": wave_sandbox.business_ids()[0]},
    )["data"]["business"]["products"]
    everything = sandbox_totals(wave_sandbox)[("products", wave_sandbox.business_ids()[0])]
    assert archived >= everything - active["pageInfo"]["totalCount"]


def test_full_sync_with_oauth(wave_sandbox_factory, tap, tmp_path, token_key):
    sandbox = wave_sandbox_factory(businesses=2, customers=12, invoices=30, estimates=6)
    store = tmp_path / "tokens.enc"
    run = tap.run(oauth_config(sandbox, store, token_key))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.counts() == sandbox_totals(sandbox)
    stored = store.read_bytes()
    assert sandbox.refresh_token.encode() not in stored
    assert sandbox.refresh_token not in run.stderr
    assert "sandbox-client" in sandbox.client_id  # the id may be logged, the secret never
    assert sandbox.client_secret not in run.stderr


@pytest.mark.parametrize("page_size", [7, 200])
def test_paging_reads_each_record_once(wave_sandbox, tap, page_size):
    business = wave_sandbox.business_ids()[1]
    run = tap.run(access_config(wave_sandbox, business_ids=[business], page_size=page_size))
    assert run.returncode == 0, run.stderr[-3000:]
    for stream in OPERATIONS:
        ids = [r["id"] for r in run.records[stream]]
        assert len(ids) == len(set(ids)), stream
        assert len(ids) == sandbox_totals(wave_sandbox, [business])[(stream, business)]
