"""Webhooks end to end: the Wave sandbox signs and sends its webhooks to the real relay, which
starts real `meltano run`s of tap-wave (events mode) and target-databricks-upsert into DuckDB.

After a full `meltano run`, each change made through the sandbox's GraphQL API (create, update,
pay, unpay, delete an invoice; create a transaction) shows up in the contract's tables. Then a
burst of 500 signed events over 10 businesses in about a second costs at most 20 runs and leaves
the warehouse equal to the sandbox's books.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import duckdb
import httpx
import pytest
from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import start_webhook_relay

from testkit.meltano_project import MELTANO, make_project, meltano, point_at
from testkit.pipeline import sandbox_invoices, warehouse_invoices, warehouse_rows
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

SECRET = "end-to-end-webhook-secret"
BOOKS = {
    "businesses": 10,
    "seed": 5,
    "customers": 4,
    "vendors": 1,
    "products": 4,
    "invoices": 6,
    "estimates": 2,
}
BURST_EVENTS = 500


def sign(body: bytes, secret: str = SECRET) -> str:
    """The contract's signature, computed here independently of the relay and the sandbox."""
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class Pipeline:
    """Sandbox -> relay -> meltano -> DuckDB, and waiting for a change to land."""

    def __init__(self, sandbox, relay, warehouse) -> None:
        self.sandbox, self.relay, self.warehouse = sandbox, relay, warehouse

    def idle(self) -> bool:
        """Every webhook the sandbox emitted is stored and loaded, and no run is going."""
        emitted = self.sandbox.stats()["webhooks"]["emitted"]
        events = self.relay.events()
        return (
            len(events) >= emitted
            and all(e["state"] == "done" for e in events)
            and all(r["status"] != "running" for r in self.relay.runs())
        )

    def rows(self, sql: str, params: list | None = None) -> list[tuple] | None:
        """Rows of a query once the relay is idle (DuckDB has one writer: never read mid-run)."""
        if not self.idle():
            return None
        try:
            return warehouse_rows(self.warehouse, sql, params)
        except duckdb.IOException:  # a run began meanwhile and holds the file
            return None

    def eventually(
        self, sql: str, params: list, expected: Callable[[list], bool] | list, timeout: float = 45.0
    ) -> list[tuple]:
        """Poll until the query's rows are `expected` (or satisfy it); fail after `timeout`."""
        deadline = time.monotonic() + timeout
        check = expected if callable(expected) else expected.__eq__
        rows = None
        while time.monotonic() < deadline:
            rows = self.rows(sql, params)
            if rows is not None and check(rows):
                return rows
            time.sleep(0.2)
        runs = self.relay.runs()
        pytest.fail(
            f"not visible after {timeout}s: {sql} -> {rows}; runs {runs[-3:]}\n"
            f"{self.relay.log()[-3000:]}"
        )


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("relay-e2e")
    project = make_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    relay_flags = ["--meltano-bin", str(MELTANO), "--retry-base", "0.5"]
    with (
        start_webhook_relay(
            root / "relay" / "events.db",
            project,
            SECRET,
            debounce=0.3,
            max_wait=3,
            extra_args=relay_flags,
        ) as relay,
        start_wave_sandbox(
            **BOOKS, webhook_url=relay.webhook_url, webhook_secret=SECRET
        ) as sandbox,
    ):
        point_at(project, sandbox, warehouse)
        meltano(project, "--environment", "dev", "run", "tap-wave", "target-databricks-upsert")
        assert warehouse_invoices(warehouse) == sandbox_invoices(sandbox)
        yield Pipeline(sandbox, relay, warehouse)


INVOICE = (
    "SELECT status, memo, amount_paid, _is_deleted, _deleted_at IS NOT NULL "
    "FROM wave.invoices WHERE id = ?"
)
PAYMENTS = (
    "SELECT id, amount, _is_deleted FROM wave.invoice_payments WHERE invoice_id = ? ORDER BY id"
)


def test_each_change_reaches_the_warehouse(pipeline):
    changes = BusinessChanges(pipeline.sandbox, pipeline.sandbox.business_ids()[0])

    invoice = changes.create_invoice(unit_price="25.00", quantity="2")
    pipeline.eventually(INVOICE, [invoice], lambda rows: len(rows) == 1 and not rows[0][3])

    changes.patch_invoice(invoice, memo="Net 15, thank you")
    pipeline.eventually(INVOICE, [invoice], lambda rows: rows[0][1] == "Net 15, thank you")

    undone = changes.pay_invoice(invoice, "10.00")
    pipeline.eventually(PAYMENTS, [invoice], [(undone, Decimal("10"), False)])
    changes.delete_payment(undone)
    pipeline.eventually(PAYMENTS, [invoice], [(undone, Decimal("10"), True)])  # kept, deleted

    total = pipeline.sandbox.graphql(
        "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { total { value } } } }",
        {"b": changes.business_id, "i": invoice},
    )["data"]["business"]["invoice"]["total"]["value"]
    payment = changes.pay_invoice(invoice, total)
    ((_, memo, paid, deleted, _),) = pipeline.eventually(
        INVOICE, [invoice], lambda rows: rows[0][0] == "PAID"
    )
    assert (memo, paid, deleted) == ("Net 15, thank you", Decimal(total), False)
    # Payment lines are keyed by position: the new payment is line 1 now, where the undone one was.
    assert pipeline.rows(PAYMENTS, [invoice]) == [(payment, Decimal(total), False)]

    changes.delete_invoice(invoice)
    pipeline.eventually(
        INVOICE, [invoice], [("DELETED", "Net 15, thank you", Decimal(total), True, True)]
    )

    transaction = changes.create_transaction(amount="120.50", tax="13.86")
    pipeline.eventually(
        "SELECT t.anchor_amount, t.anchor_direction, l.amount, x.amount FROM wave.transactions t "
        "JOIN wave.transaction_line_items l ON l.transaction_id = t.id "
        "JOIN wave.transaction_line_item_taxes x ON x.transaction_id = t.id WHERE t.id = ?",
        [transaction],
        [(Decimal("120.50"), "DEPOSIT", Decimal("120.50"), Decimal("13.86"))],
    )

    stored = pipeline.relay.events()
    (count,) = pipeline.rows("SELECT count(*) FROM wave.webhook_events")[0]
    assert count == len(stored)
    bodies = dict(pipeline.rows("SELECT id, body FROM wave.webhook_events"))
    assert all(bodies[e["id"]] == e["body"] for e in stored)


def test_a_burst_of_500_events_costs_at_most_20_runs_and_ends_equal(pipeline):
    sandbox = pipeline.sandbox
    businesses = sandbox.business_ids()
    invoices = sorted(sandbox_invoices(sandbox))
    runs_before = len(pipeline.relay.runs())
    emitted_before = sandbox.stats()["webhooks"]["emitted"]

    def real_change(n: int) -> None:
        business_id, invoice_id = invoices[n * 7 % len(invoices)]
        BusinessChanges(sandbox, business_id).patch_invoice(invoice_id, memo=f"burst {n}")

    def synthetic_event(n: int) -> int:
        business_id, invoice_id = invoices[n % len(invoices)]
        body = json.dumps(
            {
                "id": f"evt_burst_{uuid.uuid4().hex}",
                "type": "invoice.updated",
                "createdAt": "2026-11-28T12:00:00.000Z",
                "businessId": business_id,
                "data": {"id": invoice_id},
            }
        ).encode()
        answer = client.post(
            pipeline.relay.webhook_url,
            content=body,
            headers={"x-wave-signature": sign(body), "content-type": "application/json"},
        )
        return answer.status_code

    real = 40
    started = time.monotonic()
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(real_change, range(real)))
        statuses = list(pool.map(synthetic_event, range(BURST_EVENTS - real)))
    sent_in = time.monotonic() - started
    assert set(statuses) == {202}
    assert {b for b, _ in invoices} == set(businesses)

    deadline = time.monotonic() + 90
    while not pipeline.idle():
        assert time.monotonic() < deadline, f"not idle: {pipeline.relay.runs()[-3:]}"
        time.sleep(0.3)
    emitted = sandbox.stats()["webhooks"]["emitted"] - emitted_before
    assert emitted >= real
    burst_runs = pipeline.relay.runs()[runs_before:]
    assert 1 <= len(burst_runs) <= 20, (sent_in, burst_runs)
    assert all(run["status"] == "succeeded" for run in burst_runs)
    assert warehouse_invoices(pipeline.warehouse) == sandbox_invoices(sandbox)
    memos = dict(warehouse_rows(pipeline.warehouse, "SELECT id, memo FROM wave.invoices"))
    assert sum(1 for memo in memos.values() if (memo or "").startswith("burst ")) == len(
        {invoices[n * 7 % len(invoices)][1] for n in range(real)}
    )
