"""One bad event stalls nobody, with the real pipeline: the Wave sandbox, the relay, real
`meltano run`s of tap-wave (events mode) and target-databricks-upsert into DuckDB.

The three stalls of issue 13, each next to a real change of another business that must reach
the warehouse: (a) a 140 kB businessId (refused at the door now; it used to make every run fail
with `Argument list too long`), (b) a `transaction.created` whose amount is "120,50" (the target
refuses the record on every run), (c) an event for a business the token cannot see (the tap
exits 1 with NOT_FOUND). (b) and (c) end quarantined. Then a burst of 500 signed webhooks over 10
businesses with one poison among them: the other 499 are loaded in the narrowing pass that
follows the failed run, and the poison is quarantined.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import start_webhook_relay

from testkit.meltano_project import MELTANO, make_project, meltano, point_at
from testkit.pipeline import sandbox_invoices, warehouse_rows
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

SECRET = "poison-test-webhook-secret"
BOOKS = {
    "businesses": 10,
    "seed": 29,
    "customers": 2,
    "vendors": 1,
    "products": 2,
    "invoices": 5,
    "estimates": 1,
}
QUARANTINE_AFTER = 3  # the relay's default
RELAY_FLAGS = ["--meltano-bin", str(MELTANO), "--retry-base", "0.5", "--retry-max", "4"]


def sign(body: bytes) -> str:
    """The contract's signature, computed here independently of the relay and the sandbox."""
    timestamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def event(business_id: str, event_type: str, data: dict) -> bytes:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": event_type,
            "createdAt": "2026-11-28T12:00:00.000Z",
            "businessId": business_id,
            "data": data,
        }
    ).encode()


def bad_amount_transaction(business_id: str) -> bytes:
    """Authentic, but its amount is "120,50": the target refuses the record."""
    obj = {
        "id": f"txn-{uuid.uuid4().hex[:10]}",
        "externalId": "pos-bad",
        "date": "2026-11-28",
        "description": "Card sale",
        "notes": None,
        "anchor": {"accountId": "acct-1", "amount": "120,50", "direction": "DEPOSIT"},
        "lineItems": [],
        "createdAt": "2026-11-28T11:59:58.000Z",
    }
    return event(business_id, "transaction.created", {"id": obj["id"], "object": obj})


def invisible_business_event() -> bytes:
    """An invoice event of a business the sandbox token cannot see (a Wave-shaped id)."""
    business = base64.b64encode(f"Business:{uuid.uuid4()}".encode()).decode()
    invoice = base64.b64encode(f"Business:{uuid.uuid4()};Invoice:1".encode()).decode()
    return event(business, "invoice.updated", {"id": invoice})


class Pipeline:
    def __init__(self, sandbox, relay, warehouse) -> None:
        self.sandbox, self.relay, self.warehouse = sandbox, relay, warehouse
        self.client = httpx.Client(timeout=30)

    def post(self, body: bytes) -> httpx.Response:
        return self.client.post(
            self.relay.webhook_url,
            content=body,
            headers={"x-wave-signature": sign(body), "content-type": "application/json"},
        )

    def state(self, event_id: str) -> str | None:
        return next((e["state"] for e in self.relay.events() if e["id"] == event_id), None)

    def wait(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.3)
        pytest.fail(
            f"timed out after {timeout} s waiting for {what}; runs "
            f"{[(r.get('kind'), r['status'], r['event_count']) for r in self.relay.runs()]}"
            f"\n{self.relay.log()[-3000:]}"
        )

    def memo_loaded(self, invoice_id: str, memo: str) -> bool:
        """The warehouse holds `memo` for the invoice (read only while no run is going)."""
        if any(r["status"] == "running" for r in self.relay.runs()):
            return False
        try:
            rows = warehouse_rows(
                self.warehouse, "SELECT memo FROM wave.invoices WHERE id = ?", [invoice_id]
            )
        except Exception:  # a run began meanwhile and holds the DuckDB file
            return False
        return rows == [(memo,)]

    def change_another_business(self, business_id: str) -> tuple[str, str]:
        """A real change in `business_id` (the sandbox signs and sends its webhook)."""
        invoice = next(i for b, i in sorted(sandbox_invoices(self.sandbox)) if b == business_id)
        memo = f"changed {uuid.uuid4().hex[:8]}"
        BusinessChanges(self.sandbox, business_id).patch_invoice(invoice, memo=memo)
        return invoice, memo


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("relay-poison")
    project = make_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    with (
        start_webhook_relay(
            root / "relay" / "events.db",
            project,
            SECRET,
            debounce=0.3,
            max_wait=3,
            extra_args=RELAY_FLAGS,
        ) as relay,
        start_wave_sandbox(
            **BOOKS, webhook_url=relay.webhook_url, webhook_secret=SECRET
        ) as sandbox,
    ):
        point_at(project, sandbox, warehouse)
        meltano(project, "--environment", "dev", "run", "tap-wave", "target-databricks-upsert")
        yield Pipeline(sandbox, relay, warehouse)


def test_the_three_stalls_of_issue_13_stall_nothing(pipeline):
    """(a), (b) and (c) at once, next to a real change of another business."""
    businesses = pipeline.sandbox.business_ids()
    huge = pipeline.post(event("Q" * 140_000, "invoice.updated", {"id": "inv-1"}))
    assert (huge.status_code, huge.json()) == (400, {"error": "invalid_businessId"})  # (a)
    posted = [
        pipeline.post(body)
        for body in (
            bad_amount_transaction(businesses[2]),  # (b)
            invisible_business_event(),
        )
    ]  # (c)
    assert [answer.status_code for answer in posted] == [202, 202]
    bad_amount, invisible = (answer.json()["id"] for answer in posted)

    invoice, memo = pipeline.change_another_business(businesses[3])
    pipeline.wait(
        lambda: pipeline.memo_loaded(invoice, memo),
        120,
        "the other business's change in the warehouse",
    )
    pipeline.wait(
        lambda: {pipeline.state(bad_amount), pipeline.state(invisible)} == {"quarantined"},
        180,
        "both bad events quarantined",
    )
    rows = {e["id"]: e for e in pipeline.relay.events()}
    for row in (rows[bad_amount], rows[invisible]):
        assert row["quarantine_reason"].startswith(f"failed alone {QUARANTINE_AFTER} times")
    assert "'120,50' is not a valid decimal" in rows[bad_amount]["quarantine_log"]
    assert "NOT_FOUND" in rows[invisible]["quarantine_log"]
    assert "Argument list too long" not in pipeline.relay.log()
    assert all(len(r["business_ids"]) < 100_000 for r in pipeline.relay.runs())


def test_a_poison_in_a_burst_of_500_leaves_the_other_499_loaded(pipeline):
    sandbox, relay = pipeline.sandbox, pipeline.relay
    invoices = sorted(sandbox_invoices(sandbox))
    businesses = sandbox.business_ids()
    bodies = [
        event(b, "invoice.updated", {"id": i})
        for b, i in (invoices[n % len(invoices)] for n in range(499))
    ]
    bodies.insert(250, bad_amount_transaction(businesses[5]))
    runs_before = len(relay.runs())
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(pipeline.post, bodies))
    assert {a.status_code for a in answers} == {202}
    ids = [a.json()["id"] for a in answers]
    poison, healthy = ids[250], ids[:250] + ids[251:]
    assert len({json.loads(b)["businessId"] for b in bodies}) == 10

    pipeline.wait(
        lambda: all(pipeline.state(i) == "done" for i in healthy),
        240,
        "the 499 healthy events loaded",
    )
    pipeline.wait(lambda: pipeline.state(poison) == "quarantined", 120, "the poison quarantined")
    events = {e["id"]: e for e in relay.events()}
    runs = relay.runs()[runs_before:]
    # Runs of one event that failed: the poison's (a healthy event alone loads).
    poison_alone = [
        r["started_at"] for r in runs if r["kind"] == "single" and r["status"] == "failed"
    ]
    # Within one retry cycle: every healthy event was done before the poison's second run alone.
    done_at = max(events[i]["done_at"] for i in healthy)
    assert len(poison_alone) >= QUARANTINE_AFTER
    assert done_at < poison_alone[1], (done_at, poison_alone)
    assert len(runs) <= 40, [(r["kind"], r["status"], r["event_count"]) for r in runs]
    loaded = {
        row[0] for row in warehouse_rows(pipeline.warehouse, "SELECT id FROM wave.webhook_events")
    }
    assert set(healthy) <= loaded
    assert httpx.get(f"{relay.url}/healthz").json()["status"] == "degraded"
