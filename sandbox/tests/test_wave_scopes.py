"""OAuth scopes in the Wave sandbox: a `--scoped-token` reads what it holds, and every read it
lacks the scope for answers HTTP 200 with a FORBIDDEN error naming the scope and null for that
field; the full-access token keeps every scope."""

from __future__ import annotations

import subprocess
import sys

import pytest
from wave_sandbox.testing import start_wave_sandbox

CUSTOMERS_ONLY = "customers-only"
INVOICE_WILDCARD = "invoice-wildcard"
NO_BUSINESS = "no-business"

BOTH_LISTS = """query($id: ID!) { business(id: $id) {
  id
  customers(page: 1, pageSize: 2) { edges { node { id } } }
  invoices(page: 1, pageSize: 2) { edges { node { id } } }
} }"""


@pytest.fixture(scope="module")
def sandbox():
    with start_wave_sandbox(
        businesses=1,
        seed=3,
        customers=4,
        vendors=1,
        products=2,
        invoices=3,
        estimates=1,
        scoped_token=[
            f"{CUSTOMERS_ONLY}=business:read,customer:read",
            f"{INVOICE_WILDCARD}=business:read invoice:*",
            f"{NO_BUSINESS}=invoice:read",
        ],
    ) as running:
        yield running


@pytest.fixture(scope="module")
def business_id(sandbox) -> str:
    return sandbox.business_ids()[0]


def forbidden(answer: dict) -> list[tuple[str, tuple]]:
    """(code, path) of every GraphQL error of an answer."""
    return [(error["extensions"]["code"], tuple(error["path"])) for error in answer["errors"]]


def test_scoped_token_reads_what_it_holds_and_is_refused_the_rest(sandbox, business_id):
    answer = sandbox.graphql(BOTH_LISTS, {"id": business_id}, token=CUSTOMERS_ONLY)
    business = answer["data"]["business"]
    assert len(business["customers"]["edges"]) == 2
    assert business["invoices"] is None
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["id"]
    assert error["path"] == ["business", "invoices"]
    assert error["message"] == (
        "The access token lacks the 'invoice:read' scope needed to read Business.invoices; "
        "authorize the application with 'invoice:read'."
    )


def test_single_record_fields_need_the_scope_too(sandbox, business_id):
    invoice_id = sandbox.graphql(BOTH_LISTS, {"id": business_id})["data"]["business"]["invoices"][
        "edges"
    ][0]["node"]["id"]
    query = (
        "query($id: ID!, $invoice: ID!) { business(id: $id) { "
        "invoice(id: $invoice) { id } vendors { edges { node { id } } } } }"
    )
    answer = sandbox.graphql(
        query, {"id": business_id, "invoice": invoice_id}, token=CUSTOMERS_ONLY
    )
    assert answer["data"] == {"business": {"invoice": None, "vendors": None}}
    assert sorted(forbidden(answer)) == [
        ("FORBIDDEN", ("business", "invoice")),
        ("FORBIDDEN", ("business", "vendors")),
    ]
    assert "'vendor:read'" in " ".join(error["message"] for error in answer["errors"])


def test_resource_wildcard_holds_the_read_scope(sandbox, business_id):
    answer = sandbox.graphql(BOTH_LISTS, {"id": business_id}, token=INVOICE_WILDCARD)
    assert len(answer["data"]["business"]["invoices"]["edges"]) == 2
    assert forbidden(answer) == [("FORBIDDEN", ("business", "customers"))]


def test_without_business_read_no_business_is_visible(sandbox):
    answer = sandbox.graphql("{ businesses { edges { node { id } } } }", token=NO_BUSINESS)
    assert answer["data"] == {"businesses": None}
    assert forbidden(answer) == [("FORBIDDEN", ("businesses",))]
    assert "'business:read'" in answer["errors"][0]["message"]


def test_full_access_token_keeps_every_scope(sandbox, business_id):
    query = """query($id: ID!) { business(id: $id) {
      customers { edges { node { id } } } vendors { edges { node { id } } }
      products { edges { node { id } } } accounts { edges { node { id } } }
      salesTaxes { edges { node { id } } } invoices { edges { node { id } } }
      estimates { edges { node { id } } } } }"""
    answer = sandbox.graphql(query, {"id": business_id})
    assert "errors" not in answer
    assert all(connection["edges"] for connection in answer["data"]["business"].values())


def test_unknown_scope_is_refused_at_start_naming_it():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wave_sandbox",
            "serve",
            "--scoped-token",
            "t1=business:read,invoice:raed",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown scope invoice:raed in 't1=business:read,invoice:raed'" in done.stderr
