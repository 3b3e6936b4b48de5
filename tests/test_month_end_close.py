"""Closing a month (transform/macros/close_month.sql) and the restatements after it, for real.

The Wave sandbox's webhooks are stored by a real relay (it never starts a run here);
tap-wave | target-databricks-upsert load a DuckDB file, transactions included (read from the
relay's store); `meltano invoke dbt-duckdb build` and `... run-operation close_month` do the rest.
Every change in Wave goes through the sandbox's real mutations.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from webhook_relay.testing import RelayProcess, start_webhook_relay

from testkit.month_end import (
    close_month_args,
    install_dbt_duckdb,
    invoke_dbt,
    last_complete_month,
    run_results,
)
from testkit.pipeline import run_tap_to_target, sandbox_nodes, warehouse_rows
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

SECRET = "month-end-secret"
BOOKS = {
    "businesses": 2,
    "seed": 23,
    "customers": 8,
    "vendors": 2,
    "products": 6,
    "invoices": 40,
    "estimates": 2,
}
FIGURES = (
    "invoice_count",
    "net_revenue",
    "tax_total",
    "total_invoiced",
    "payments_received",
    "ar_outstanding",
    "transaction_money_in",
    "transaction_money_out",
    "transaction_income",
    "transaction_expenses",
)
MOVED_WARNING = "assert_closed_months_have_not_moved"
UNMATCHED_WARNING = "assert_receivable_transaction_lines_match_invoice_payments"
PAYMENTS_PAGE = """query($b: ID!, $page: Int!) { business(id: $b) {
    invoices(page: $page, pageSize: 200) { pageInfo { totalPages } edges { node {
        status currency { code } payments { amount paymentDate } } } } } }"""
INVOICE = """query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) {
    invoiceNumber subtotal { value } discountTotal { value } taxTotal { value } total { value }
    currency { code } payments { id } } } }"""


@pytest.fixture(scope="session")
def dbt_duckdb_utility() -> None:
    done = install_dbt_duckdb()
    assert done.returncode == 0, f"meltano install of dbt-duckdb failed:\n{done.stderr[-3000:]}"


@dataclass
class Books:
    """A sandbox whose webhooks a real relay stores, a warehouse, and dbt on it."""

    sandbox: object
    relay: RelayProcess
    a: BusinessChanges
    b: BusinessChanges
    warehouse: Path
    workdir: Path

    def wait_for_webhooks(self, timeout: float = 30.0) -> None:
        """Every webhook the sandbox emitted so far is stored by the relay."""
        deadline = time.monotonic() + timeout
        while len(self.relay.events()) < self.sandbox.stats()["webhooks"]["emitted"]:
            assert time.monotonic() < deadline, "the relay did not store every webhook"
            time.sleep(0.05)

    def sync(self, name: str, state: dict | None = None) -> dict | None:
        """A daily-style run (transactions from the relay's store); returns the state."""
        self.wait_for_webhooks()
        return run_tap_to_target(
            self.sandbox,
            self.workdir / name,
            self.warehouse,
            state=state,
            tap_overrides={"events_db": str(self.relay.db)},
        )

    def dbt(self, *args: str) -> tuple[int, str]:
        done = invoke_dbt(list(args), self.warehouse, self.workdir)
        return done.returncode, done.stdout + done.stderr

    def build(self) -> dict[str, dict]:
        code, output = self.dbt("build")
        results = run_results(self.workdir)
        broken = {k: v for k, v in results.items() if v["status"] in ("error", "fail", "skipped")}
        assert code == 0 and not broken, f"{broken}\n{output[-4000:]}"
        return results

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return warehouse_rows(self.warehouse, sql, params)

    def invoice(self, changes: BusinessChanges, invoice_id: str) -> dict:
        answer = self.sandbox.graphql(INVOICE, {"b": changes.business_id, "i": invoice_id})
        node = answer["data"]["business"]["invoice"]
        money = {
            k: Decimal(node[k]["value"]) for k in ("subtotal", "discountTotal", "taxTotal", "total")
        }
        return {
            "id": invoice_id,
            "number": node["invoiceNumber"],
            "currency": node["currency"]["code"],
            **money,
        }


@pytest.fixture
def books(tmp_path, wave_sandbox_factory, dbt_duckdb_utility) -> Books:
    with start_webhook_relay(
        tmp_path / "relay" / "events.db", tmp_path, SECRET, debounce=3600, max_wait=3600
    ) as relay:
        sandbox = wave_sandbox_factory(
            **BOOKS, webhook_url=relay.webhook_url, webhook_secret=SECRET
        )
        business_a, business_b = sandbox.business_ids()
        yield Books(
            sandbox,
            relay,
            BusinessChanges(sandbox, business_a),
            BusinessChanges(sandbox, business_b),
            tmp_path / "warehouse.duckdb",
            tmp_path,
        )


def day(month: datetime.date, day_of_month: int) -> str:
    return month.replace(day=day_of_month).isoformat()


CLOSED = f"""SELECT close_id, version, business_id, currency, {", ".join(FIGURES)}, closed_at,
    is_forced, reason, last_load_id FROM month_end.closed_months WHERE close_month = ?
    ORDER BY version, business_id, currency"""


def live_figures(books: Books, month: datetime.date) -> dict[tuple, tuple]:
    return {
        (b, c): tuple(rest)
        for b, c, *rest in books.rows(
            f"SELECT business_id, currency, {', '.join(FIGURES)} FROM month_end.month_end_close "
            "WHERE close_month = ?",
            [month],
        )
    }


def test_a_closed_month_stays_closed_and_later_changes_are_named_restatements(books):
    month = last_complete_month()
    a = books.a
    # Dated in the month, before the close: an invoice left unpaid, one paid in full in the month.
    unpaid = books.invoice(a, a.create_invoice("250.00", "2", invoice_date=day(month, 10)))
    doomed = books.invoice(a, a.create_invoice("80.00", "3", invoice_date=day(month, 12)))
    doomed_payment = a.pay_invoice(doomed["id"], str(doomed["total"]), day(month, 20))
    currency = unpaid["currency"]
    state = books.sync("full")
    books.build()

    code, output = books.dbt(*close_month_args(month))
    assert code == 0, output[-3000:]
    closed = books.rows(CLOSED, [month])
    assert {(r[2], r[3]) for r in closed} == set(live_figures(books, month))
    assert {r[1] for r in closed} == {1} and len({r[0] for r in closed}) == 1
    assert [r[4:-4] for r in closed] == [live_figures(books, month)[(r[2], r[3])] for r in closed]
    ((last_load,),) = books.rows(
        "SELECT load_id FROM wave._load_audit ORDER BY finished_at DESC LIMIT 1"
    )
    assert {r[-1] for r in closed} == {last_load}
    documents = books.rows("SELECT * FROM month_end.closed_month_documents ORDER BY ALL")

    # The current month cannot be closed before it ends.
    code, output = books.dbt(*close_month_args(datetime.date.today().replace(day=1)))
    assert code != 0 and "has not ended yet" in output

    # Closing it again is refused, and writes nothing.
    code, output = books.dbt(*close_month_args(month))
    assert code != 0 and f"{month:%Y-%m} is already closed for 2 of the 2 businesses" in output
    assert "pass force: true" in output
    assert books.rows(CLOSED, [month]) == closed

    # After the close, in Wave: a late payment dated in the month, a deletion, a late card sale.
    late_payment = a.pay_invoice(unpaid["id"], str(unpaid["total"]), day(month, 25))
    a.delete_invoice(doomed["id"])
    card_sale = a.create_transaction(
        "60.00", None, date=day(month, 28), external_id="pos-late-0001"
    )
    books.sync("after-close", state=state)
    results = books.build()

    # The close did not move; the live figures did, and the warning says so, once per figure.
    assert books.rows(CLOSED, [month]) == closed
    assert books.rows("SELECT * FROM month_end.closed_month_documents ORDER BY ALL") == documents
    figure = dict(zip(FIGURES, range(len(FIGURES)), strict=True))
    expected = {
        "invoice_count": -1,
        "net_revenue": -(doomed["subtotal"] - doomed["discountTotal"]),
        "tax_total": -doomed["taxTotal"],
        "total_invoiced": -doomed["total"],
        "payments_received": unpaid["total"] - doomed["total"],
        "ar_outstanding": -unpaid["total"],
        "transaction_money_in": Decimal("60.00"),
        "transaction_income": Decimal("60.00"),
    }
    expected = {name: diff for name, diff in expected.items() if diff != 0}
    before = {(r[2], r[3]): r[4:-4] for r in closed}
    after = live_figures(books, month)
    moved = {
        (key, name): after[key][i] - before[key][i]
        for key in after
        for name, i in figure.items()
        if after[key][i] != before[key][i]
    }
    assert moved == {((a.business_id, currency), name): diff for name, diff in expected.items()}
    assert results[MOVED_WARNING]["status"] == "warn"
    assert results[MOVED_WARNING]["failures"] == len(expected)

    restated = books.rows(
        """SELECT figure, difference, document_type, document_id, change,
        amount_difference, deleted_in_wave, changed_after_close, document_number, close_version
        FROM month_end.month_end_restatements WHERE close_month = ?""",
        [month],
    )
    assert {(r[0], r[1]) for r in restated} == set(expected.items())
    assert {r[9] for r in restated} == {1}
    assert all(r[7] for r in restated), restated  # each cause was written after the close
    causes = {(r[0], r[2], r[3], r[4], r[5], r[6]) for r in restated}
    assert causes == {
        *(
            (name, "invoice", doomed["id"], "removed", expected[name], True)
            for name in FIGURES[:4]
            if name in expected
        ),
        ("payments_received", "payment", doomed_payment, "removed", -doomed["total"], True),
        ("payments_received", "payment", late_payment, "added", unpaid["total"], False),
        ("ar_outstanding", "invoice", unpaid["id"], "removed", -unpaid["total"], False),
        ("transaction_money_in", "transaction", card_sale, "added", Decimal("60.00"), False),
        ("transaction_income", "transaction", card_sale, "added", Decimal("60.00"), False),
    }
    numbers = {(r[2], r[3]): r[8] for r in restated}
    assert numbers[("invoice", doomed["id"])] == doomed["number"]
    assert numbers[("transaction", card_sale)] == "pos-late-0001"

    # A forced re-close adds version 2 with today's figures and keeps version 1 as it was.
    code, output = books.dbt(*close_month_args(month, force=True, reason="late payment"))
    assert code == 0, output[-3000:]
    both = books.rows(CLOSED, [month])
    assert [r for r in both if r[1] == 1] == closed
    again = [r for r in both if r[1] == 2]
    assert {(r[2], r[3]): r[4:-4] for r in again} == after
    assert {(r[-3], r[-2]) for r in again} == {(True, "late payment")}
    assert min(r[-4] for r in again) > max(r[-4] for r in closed)
    assert books.rows("SELECT count(*) FROM month_end.month_end_restatements") == [(0,)]


def sandbox_payments_in(books: Books, month: datetime.date) -> dict[tuple, Decimal]:
    """Invoice payments dated in `month` per business and currency, from Wave's own answers."""
    received: dict[tuple, Decimal] = {}
    for business_id, node in sandbox_nodes(books.sandbox, PAYMENTS_PAGE, "invoices"):
        for payment in node["payments"] if node["status"] != "DRAFT" else []:
            if payment["paymentDate"][:7] == f"{month:%Y-%m}":
                key = (business_id, node["currency"]["code"])
                received[key] = received.get(key, Decimal(0)) + Decimal(payment["amount"])
    return received


def test_transactions_reach_the_month_end_figures_exactly_once(books):
    month = last_complete_month()
    a = books.a
    a.create_transaction("120.50", "13.86", date=day(month, 5))  # a card sale, with sales tax
    a.create_transaction(
        "45.00",
        None,
        date=day(month, 6),
        direction="WITHDRAWAL",
        category="expense",
        description="Office supplies",
    )
    # A customer pays an invoice; Wave records the payment on the invoice and, through the bank
    # feed, as a deposit categorised to Accounts Receivable: the same money, twice in Wave.
    invoice = books.invoice(a, a.create_invoice("300.00", "1", invoice_date=day(month, 2)))
    a.pay_invoice(invoice["id"], str(invoice["total"]), day(month, 15))
    fed = a.create_transaction(
        str(invoice["total"]),
        None,
        date=day(month, 15),
        category="receivable",
        balance="DECREASE",
        customer_id=a.references["customer"],
        description="Customer payment",
    )
    # Money against receivables that no invoice shows paid: not counted, and warned about.
    unmatched = a.create_transaction(
        "99.00",
        None,
        date=day(month, 16),
        category="receivable",
        balance="DECREASE",
        description="Unapplied receipt",
    )
    books.sync("first")
    books.sync("again")  # every transaction event read and written a second time
    results = books.build()

    assert books.rows("SELECT count(*), count(DISTINCT id) FROM wave.transactions") == [(4, 4)]
    assert results[MOVED_WARNING]["status"] == "pass"
    assert results[UNMATCHED_WARNING]["status"] == "warn"
    assert results[UNMATCHED_WARNING]["failures"] == 1
    assert set(
        books.rows(
            "SELECT transaction_id, amount FROM month_end.int_transaction_lines "
            "WHERE settles_invoices"
        )
    ) == {(fed, invoice["total"]), (unmatched, Decimal("99.00"))}

    currency = invoice["currency"]
    paid = sandbox_payments_in(books, month)
    assert invoice["total"] <= paid[(a.business_id, currency)]
    columns = (
        "payments_received",
        "transaction_money_in",
        "transaction_money_out",
        "transaction_income",
        "transaction_expenses",
        "net_money_in",
    )
    figures = {
        (b, c, m): rest
        for b, c, m, *rest in books.rows(
            f"SELECT business_id, currency, close_month, {', '.join(columns)} "
            "FROM month_end.month_end_close"
        )
    }
    received = paid[(a.business_id, currency)]
    assert figures[(a.business_id, currency, month)] == [
        received,
        Decimal("120.50"),
        Decimal("45.00"),
        Decimal("106.64"),
        Decimal("45.00"),
        received + Decimal("120.50") - Decimal("45.00"),
    ]
    for (business, code, close_month), row in figures.items():
        if close_month == month:
            assert row[0] == paid.get((business, code), 0)
        if (business, close_month) != (a.business_id, month):
            assert row[1:5] == [0, 0, 0, 0], (business, close_month, row)

    # Per account: the bank account took the card sale in and the supplies out, and every
    # invoice payment once; Accounts Receivable lines of transactions appear nowhere.
    cash = books.rows(
        """SELECT source, category_type, sum(money_in), sum(money_out)
        FROM month_end.cash_by_account_month WHERE business_id = ? AND cash_month = ?
        GROUP BY ALL ORDER BY ALL""",
        [a.business_id, month],
    )
    assert cash == [
        ("invoice_payment", "ASSET", received, 0),
        ("transaction", "EXPENSE", 0, Decimal("45.00")),
        ("transaction", "INCOME", Decimal("120.50"), 0),
    ]
