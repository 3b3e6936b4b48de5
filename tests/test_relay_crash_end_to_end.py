"""A `kill -9` of the relay loses nothing, with the real pipeline behind it.

The sandbox sends a signed webhook for a real change; the relay answers 2xx and is then killed
(right after the 2xx, and while the run it started is going). A new relay on the same store and
project picks the event up, and the change reaches the warehouse through real meltano runs.
"""

from __future__ import annotations

import time

import pytest
from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import start_webhook_relay

from testkit.meltano_project import MELTANO, make_project, meltano, point_at
from testkit.pipeline import warehouse_rows
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

SECRET = "crash-test-webhook-secret"
BOOKS = {
    "businesses": 1,
    "seed": 13,
    "customers": 4,
    "vendors": 1,
    "products": 4,
    "invoices": 6,
    "estimates": 1,
}
RELAY_FLAGS = ["--meltano-bin", str(MELTANO), "--retry-base", "0.5"]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("kill_point", ["right_after_2xx", "during_the_run"])
def test_relay_killed_then_restarted_loses_no_event(tmp_path, kill_point):
    project = make_project(tmp_path / "project")
    warehouse, store = tmp_path / "warehouse.duckdb", tmp_path / "relay" / "events.db"
    debounce = 30.0 if kill_point == "right_after_2xx" else 0.2
    with (
        start_webhook_relay(
            store, project, SECRET, debounce=debounce, max_wait=60, extra_args=RELAY_FLAGS
        ) as first,
        start_wave_sandbox(
            **BOOKS, webhook_url=first.webhook_url, webhook_secret=SECRET
        ) as sandbox,
    ):
        point_at(project, sandbox, warehouse)
        meltano(project, "--environment", "dev", "run", "tap-wave", "target-databricks-upsert")
        changes = BusinessChanges(sandbox, sandbox.business_ids()[0])
        invoice = changes.create_invoice(unit_price="42.00")
        wait_for(lambda: first.events(), 30, "the webhook to be stored")
        if kill_point == "during_the_run":
            wait_for(
                lambda: any(r["status"] == "running" for r in first.runs()), 30, "a run to start"
            )
        first.kill9()
        assert any(e["entity_id"] == invoice for e in first.events())

        with start_webhook_relay(
            store, project, SECRET, debounce=0.2, max_wait=2, extra_args=RELAY_FLAGS
        ) as second:
            second.wait_until_idle(timeout=120, expect_events=1)  # its run exited 0: committed
            ((total, deleted),) = warehouse_rows(
                warehouse, "SELECT total, _is_deleted FROM wave.invoices WHERE id = ?", [invoice]
            )
            assert deleted is False and total > 0
            events = second.events()
            assert [e["state"] for e in events] == ["done"] * len(events)
