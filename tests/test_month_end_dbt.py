"""The dbt month-end close (transform/) on a warehouse the real pipeline loaded from the sandbox.

tap-wave | target-databricks-upsert fill a DuckDB file; `meltano invoke dbt-duckdb build` (the
project's dbt utility, in its own venv) builds the models and runs every reconciliation test.
The marts must equal sums computed here from the sandbox's own GraphQL answers, and an invoice
deleted in the sandbox must leave revenue after the next incremental run.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from testkit.month_end import install_dbt
from testkit.pipeline import run_tap_to_target, sandbox_nodes, warehouse_rows

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MELTANO = str(Path(sys.executable).parent / "meltano")
RECONCILIATION_TESTS = {
    "invoice_subtotal_equals_live_item_subtotals",
    "invoice_tax_total_equals_live_item_taxes",
    "invoice_total_equals_subtotal_plus_taxes_minus_discounts",
    "invoice_amount_paid_equals_live_payments",
    "live_invoice_has_live_business",
    "live_invoice_item_has_live_invoice",
    "live_payment_has_live_invoice",
}
AGING_BUCKETS = (
    "current_amount",
    "past_due_1_30",
    "past_due_31_60",
    "past_due_61_90",
    "past_due_over_90",
)

INVOICES_PAGE = """
query($b: ID!, $page: Int!) { business(id: $b) { invoices(page: $page, pageSize: 200) {
  pageInfo { totalPages }
  edges { node { id status invoiceDate dueDate currency { code } customer { id }
    subtotal { value } discountTotal { value } taxTotal { value } total { value }
    amountDue { value } payments { amount paymentDate } } } } } }"""


@pytest.fixture(scope="session")
def dbt_duckdb_utility() -> None:
    """The dbt-duckdb utility venv, installed the way a user installs it."""
    done = install_dbt("dbt-duckdb")
    assert done.returncode == 0, f"meltano install of dbt-duckdb failed:\n{done.stderr[-3000:]}"


@pytest.fixture
def sandbox(wave_sandbox_factory):
    return wave_sandbox_factory(
        businesses=2, seed=11, customers=12, invoices=60, estimates=4, products=8, vendors=3
    )


def dbt_build(warehouse: Path, workdir: Path, as_of: datetime.date) -> set[str]:
    """`meltano invoke dbt-duckdb build` on `warehouse`; returns the names of the tests run."""
    target_path = workdir / "dbt-target"
    env = {
        **os.environ,
        "DBT_DUCKDB_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(workdir / "dbt-logs"),
        "DBT_AS_OF_DATE": as_of.isoformat(),
    }
    done = subprocess.run(
        [MELTANO, "invoke", "dbt-duckdb", "build"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    failed = [
        (r["unique_id"], r["status"], r["message"])
        for r in results
        if r["status"] not in ("success", "pass")
    ]
    assert done.returncode == 0 and not failed, f"{failed}\n{done.stdout[-4000:]}"
    return {r["unique_id"].split(".")[2] for r in results if r["unique_id"].startswith("test.")}


def sandbox_books(sandbox) -> list[dict]:
    """Every invoice the sandbox lists now, with its business id."""
    return [
        {**node, "business_id": business_id}
        for business_id, node in sandbox_nodes(sandbox, INVOICES_PAGE, "invoices")
    ]


def money(node: dict, field: str) -> Decimal:
    return Decimal(node[field]["value"])


def first_of_month(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day).replace(day=1)


def expected_marts(invoices: list[dict], as_of: datetime.date) -> dict[str, dict]:
    """Revenue, cash and AR aging computed from the GraphQL answers alone."""
    revenue: dict = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    cash: dict = defaultdict(Decimal)
    aging: dict = defaultdict(lambda: dict.fromkeys(AGING_BUCKETS, Decimal(0)))
    ar_now: dict = defaultdict(Decimal)
    for invoice in invoices:
        if invoice["status"] == "DRAFT":
            continue
        key = (invoice["business_id"], invoice["currency"]["code"])
        month = revenue[(*key, first_of_month(invoice["invoiceDate"]))]
        month[0] += 1
        month[1] += money(invoice, "subtotal") - money(invoice, "discountTotal")
        month[2] += money(invoice, "total")
        for payment in invoice["payments"] or []:
            cash[(*key, first_of_month(payment["paymentDate"]))] += Decimal(payment["amount"])
        due = money(invoice, "amountDue")
        ar_now[key] += due
        if due > 0 and datetime.date.fromisoformat(invoice["invoiceDate"]) <= as_of:
            late = (as_of - datetime.date.fromisoformat(invoice["dueDate"])).days
            bucket = (
                "current_amount"
                if late <= 0
                else "past_due_1_30"
                if late <= 30
                else "past_due_31_60"
                if late <= 60
                else "past_due_61_90"
                if late <= 90
                else "past_due_over_90"
            )
            aging[(*key, invoice["customer"]["id"])][bucket] += due
    return {
        "revenue": {k: tuple(v) for k, v in revenue.items()},
        "cash": dict(cash),
        "aging": {k: dict(v) for k, v in aging.items()},
        "ar_now": dict(ar_now),
    }


def warehouse_marts(warehouse: Path) -> dict[str, dict]:
    """The same figures read from the marts dbt built."""
    revenue = {
        (b, c, m): (n, net, total)
        for b, c, m, n, net, total in warehouse_rows(
            warehouse,
            "SELECT business_id, currency, revenue_month, invoice_count, net_revenue, "
            "total_invoiced FROM month_end.revenue_by_month",
        )
    }
    cash = {
        (b, c, m): amount
        for b, c, m, amount in warehouse_rows(
            warehouse,
            "SELECT business_id, currency, payment_month, amount_received "
            "FROM month_end.cash_received_by_month",
        )
    }
    aging = {
        (b, c, customer): dict(zip(AGING_BUCKETS, buckets, strict=True))
        for b, c, customer, *buckets in warehouse_rows(
            warehouse,
            f"SELECT business_id, currency, customer_id, {', '.join(AGING_BUCKETS)}"
            " FROM month_end.ar_aging",
        )
    }
    # Receivables rebuilt from history at the last month's end = what is due today.
    ar_now = {
        (b, c): ar
        for b, c, ar in warehouse_rows(
            warehouse,
            "SELECT business_id, currency, ar_outstanding FROM month_end.month_end_close "
            "QUALIFY close_month = max(close_month) OVER (PARTITION BY business_id, currency)",
        )
    }
    return {"revenue": revenue, "cash": cash, "aging": aging, "ar_now": ar_now}


def delete_invoice(sandbox, invoice_id: str) -> None:
    answer = sandbox.graphql(
        """mutation($input: InvoiceDeleteInput!) {
        invoiceDelete(input: $input) { didSucceed inputErrors { message } } }""",
        {"input": {"invoiceId": invoice_id}},
    )
    assert not answer.get("errors"), answer["errors"]
    assert answer["data"]["invoiceDelete"]["didSucceed"], answer["data"]["invoiceDelete"]


def test_month_end_marts_equal_the_sandbox_books_and_follow_a_delete(
    dbt_duckdb_utility, sandbox, tmp_path
):
    warehouse = tmp_path / "warehouse.duckdb"
    as_of = datetime.date.today()

    state = run_tap_to_target(sandbox, tmp_path / "full", warehouse)
    tests_run = dbt_build(warehouse, tmp_path, as_of)
    assert tests_run >= RECONCILIATION_TESTS
    books = sandbox_books(sandbox)
    assert warehouse_marts(warehouse) == expected_marts(books, as_of)

    doomed = next(i for i in books if i["status"] == "PAID" and i["payments"])
    doomed_month = (
        doomed["business_id"],
        doomed["currency"]["code"],
        first_of_month(doomed["invoiceDate"]),
    )
    revenue_before = warehouse_marts(warehouse)["revenue"][doomed_month]
    delete_invoice(sandbox, doomed["id"])

    run_tap_to_target(sandbox, tmp_path / "incremental", warehouse, state=state)
    assert dbt_build(warehouse, tmp_path, as_of) >= RECONCILIATION_TESTS
    (still_stored,) = warehouse_rows(
        warehouse,
        "SELECT status, _is_deleted FROM wave.invoices WHERE business_id = ? AND id = ?",
        [doomed["business_id"], doomed["id"]],
    )
    assert still_stored == ("DELETED", True)
    after = warehouse_marts(warehouse)
    count, net, total = revenue_before
    assert after["revenue"].get(doomed_month, (0, Decimal(0), Decimal(0))) == (
        count - 1,
        net - money(doomed, "subtotal") + money(doomed, "discountTotal"),
        total - money(doomed, "total"),
    )
    assert after == expected_marts(sandbox_books(sandbox), as_of)
