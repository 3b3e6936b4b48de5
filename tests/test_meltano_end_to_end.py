"""The product as its users run it: the real `meltano` CLI over the repo's Meltano project.

A full run, changes in the sandbox, an incremental run: the warehouse equals the sandbox's books,
and the state Meltano keeps holds, per business, the newest `modifiedAt` loaded and the ids loaded.
Then `kill -9` of a run (meltano with its tap and target) at several points, each followed by a
rerun: nothing lost, nothing duplicated, the warehouse equal to the sandbox's books again.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import random
import signal
import subprocess
import time
import zlib

import pytest
from wave_sandbox.testing import start_wave_sandbox

from testkit.meltano_project import MELTANO, make_project, meltano, point_at
from testkit.pipeline import sandbox_invoices, warehouse_invoices, warehouse_rows
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

BOOKS = {
    "businesses": 3,
    "seed": 41,
    "customers": 30,
    "vendors": 5,
    "products": 12,
    "invoices": 300,
    "estimates": 20,
}
RUN = ("--environment", "dev", "run", "tap-wave", "target-databricks-upsert")
# Meltano keeps a killed job RUNNING until its heartbeat is 5 minutes stale and refuses to start
# the same state id meanwhile. Runs serialized by the project's run lock (the relay and the daily
# job both take it) take over with --force; docs/operations.md explains it.
RUN_AFTER_A_CRASH = (*RUN, "--force")
STATE_ID = "dev:tap-wave-to-target-databricks-upsert"
INCREMENTAL = ("customers", "estimates", "invoices", "products", "sales_taxes", "vendors")
"""Streams with a `modified_at` bookmark per business (the table has the stream's name)."""
RECONCILED = ("customers", "estimates", "invoices")
"""Streams whose partitions also keep `known_ids`: the ids Wave listed (deletes are found so)."""
UNBOOKMARKED = ("accounts", "transactions", "webhook_events")
"""A partition per business, nothing in it (re-read whole; no relay store in this project)."""


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    root = tmp_path_factory.mktemp("meltano-e2e")
    project = make_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    with start_wave_sandbox(**BOOKS) as sandbox:
        point_at(project, sandbox, warehouse)
        yield project, sandbox, warehouse


def change_some_books(sandbox, rng: random.Random) -> None:
    """A new invoice, a payment, a deletion: one of each in a business picked by `rng`."""
    business_id = rng.choice(sandbox.business_ids())
    changes = BusinessChanges(sandbox, business_id)
    fresh = changes.create_invoice(unit_price=f"{rng.randint(10, 500)}.00")
    changes.pay_invoice(fresh, "5.00")
    doomed = changes.create_invoice(unit_price="1.00")
    changes.delete_invoice(doomed)


def assert_warehouse_equals_sandbox(sandbox, warehouse) -> None:
    assert warehouse_invoices(warehouse) == sandbox_invoices(sandbox)
    duplicates = warehouse_rows(
        warehouse,
        "SELECT business_id, id, count(*) FROM wave.invoices GROUP BY ALL HAVING count(*) > 1",
    )
    assert duplicates == []


def known_ids(encoded: str) -> set[str]:
    """The ids of a partition's `known_ids`: zlib-compressed JSON in base64 (tap-wave/README.md)."""
    return set(json.loads(zlib.decompress(base64.b64decode(encoded))))


def assert_state_matches_warehouse(project, sandbox, warehouse) -> None:
    """Every stream's bookmarks, exactly: one partition per business; for the incremental streams
    the newest `modified_at` the warehouse holds for that business, and, where deletes are
    reconciled, exactly the ids live in the warehouse."""
    state = json.loads(meltano(project, "--environment", "dev", "state", "get", STATE_ID).stdout)
    assert state.keys() == {"singer_state"}
    bookmarks = state["singer_state"]["bookmarks"]
    businesses = sorted(sandbox.business_ids())
    assert sorted(bookmarks) == sorted(("businesses", *INCREMENTAL, *UNBOOKMARKED))
    assert bookmarks["businesses"] == {}
    for stream in UNBOOKMARKED:
        partitions = bookmarks[stream]["partitions"]
        assert sorted(partitions, key=lambda p: p["context"]["business_id"]) == [
            {"context": {"business_id": business}} for business in businesses
        ], stream
    for stream in INCREMENTAL:
        assert bookmarks[stream].keys() == {"partitions"}, stream
        partitions = bookmarks[stream]["partitions"]
        assert sorted(p["context"]["business_id"] for p in partitions) == businesses, stream
        newest = dict(
            warehouse_rows(
                warehouse, f"SELECT business_id, max(modified_at) FROM wave.{stream} GROUP BY ALL"
            )
        )
        live: dict[str, set[str]] = {}
        for business, record_id in warehouse_rows(
            warehouse, f"SELECT business_id, id FROM wave.{stream} WHERE NOT _is_deleted"
        ):
            live.setdefault(business, set()).add(record_id)
        for partition in partitions:
            business = partition["context"]["business_id"]
            assert partition.keys() == {
                "context",
                "replication_key",
                "replication_key_value",
                *(["known_ids"] if stream in RECONCILED else []),
            }, (stream, business)
            assert partition["context"] == {"business_id": business}
            assert partition["replication_key"] == "modified_at"
            bookmark = dt.datetime.fromisoformat(partition["replication_key_value"])
            assert bookmark == newest[business], (stream, business, bookmark, newest[business])
            if stream in RECONCILED:
                assert known_ids(partition["known_ids"]) == live[business], (stream, business)


def test_full_then_incremental_run_equal_the_sandbox(product):
    project, sandbox, warehouse = product
    meltano(project, *RUN)
    assert_warehouse_equals_sandbox(sandbox, warehouse)
    assert_state_matches_warehouse(project, sandbox, warehouse)

    change_some_books(sandbox, random.Random(1))
    before = sandbox.stats()["by_operation"].get("Invoices", 0)
    meltano(project, *RUN)
    assert_warehouse_equals_sandbox(sandbox, warehouse)
    incremental_pages = sandbox.stats()["by_operation"].get("Invoices", 0) - before
    assert incremental_pages <= len(sandbox.business_ids()), "an incremental run re-read it all"
    assert_state_matches_warehouse(project, sandbox, warehouse)


@pytest.mark.parametrize("kill_fraction", [0.15, 0.45, 0.8])
def test_kill_9_mid_run_then_rerun_equals_the_sandbox(product, kill_fraction):
    """Kill a full-refresh run (meltano, tap and target at once) part way, then run again."""
    project, sandbox, warehouse = product
    change_some_books(sandbox, random.Random(kill_fraction))
    timing_started = time.monotonic()
    meltano(project, *RUN_AFTER_A_CRASH, "--full-refresh")
    full_run_seconds = time.monotonic() - timing_started

    change_some_books(sandbox, random.Random(kill_fraction + 1))
    run = subprocess.Popen(
        [str(MELTANO), *RUN_AFTER_A_CRASH, "--full-refresh"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=os.environ.copy(),
    )
    time.sleep(full_run_seconds * kill_fraction)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(30)

    meltano(project, *RUN_AFTER_A_CRASH)
    assert_warehouse_equals_sandbox(sandbox, warehouse)
