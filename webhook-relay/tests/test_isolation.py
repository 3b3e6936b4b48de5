"""One bad event never stalls the others: a failed run is narrowed (by business, then in halves)
so that healthy events are loaded by the next runs, and an event that keeps failing alone is
quarantined (kept, with reason and log), listed and re-queued by the CLI. An outage narrows and
quarantines nothing. The runs are the recording stand-in, told which events make a run fail."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

FAST = ("--debounce", "0.3", "--max-wait", "1", "--retry-base", "0.3", "--retry-max", "2")
RELAY_BIN = Path(sys.executable).parent / "webhook-relay"


def post_all(relay, bodies: list[bytes]) -> list[str]:
    ids = []
    for body in bodies:
        answer = relay.post(body)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


def states(relay) -> dict[str, str]:
    return {e["id"]: e["state"] for e in relay.events()}


def cli(relay, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RELAY_BIN), "events", "--db", str(relay.db), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("named", [True, False], ids=["error-names-it", "error-says-nothing"])
def test_a_poison_event_is_isolated_and_quarantined_and_the_rest_loaded(
    relay_factory, new_event, eventually, named
):
    # A debounce long enough for all thirty events to be in the first run, even on a loaded
    # machine (posting them took over a second there).
    relay = relay_factory(
        "--debounce",
        "3",
        "--max-wait",
        "10",
        "--retry-base",
        "0.3",
        "--retry-max",
        "2",
        "--quarantine-after",
        "3",
    )
    bodies = [new_event(business_id=f"biz-{n % 3}", entity_id=f"inv-{n}") for n in range(30)]
    poison = json.loads(bodies[13])["id"]  # biz-1, in the middle of its ten events
    output = "RecordValidationError: bad record in {ids}" if named else "the loader died"
    relay.recorder.control(poison_ids=(poison,), output=output)
    ids = post_all(relay, bodies)
    healthy = [i for i in ids if i != poison]

    eventually(
        lambda: states(relay)[poison] == "quarantined",
        timeout=60,
        what="the poison event quarantined",
    )
    final = states(relay)
    assert all(final[i] == "done" for i in healthy)

    runs = relay.recorder.starts()
    assert len(runs[0]["events"]) == 30
    solo = [r for r in runs if [e["id"] for e in r["events"]] == [poison]]
    # Healthy events were loaded in the narrowing pass, before the poison was retried alone.
    done_at = max(e["done_at"] for e in relay.events() if e["id"] != poison)
    rows = {r["run_id"]: r for r in relay.runs()}
    second_solo = rows[solo[1]["env"]["WEBHOOK_RELAY_RUN_ID"]]["started_at"]
    assert done_at < second_solo
    attempts = {e["id"]: e["attempts"] for e in relay.events()}
    if named:  # the rest ran once more, right after the failure; then the poison alone
        assert max(attempts[i] for i in healthy) == 2
        assert [len(r["events"]) for r in runs] == [30, 29, 1, 1, 1]
    else:  # by business, then halves of biz-1: never one run per event
        assert max(attempts[i] for i in healthy) <= 6
        assert len(runs) <= 16, [len(r["events"]) for r in runs]

    row = next(e for e in relay.events() if e["id"] == poison)
    assert row["quarantine_reason"].startswith("failed alone 3 times; last run ")
    expected = output.format(ids=poison)
    assert expected in row["quarantine_reason"] and expected in row["quarantine_log"]
    health = httpx.get(f"{relay.url}/healthz").json()
    assert health == {"status": "degraded", "pending": 0, "failing": 0, "quarantined": 1}
    samples = relay.metrics()
    assert samples["webhook_relay_events_quarantined"] == 1
    assert samples["webhook_relay_quarantines_total"] == 1
    assert f"event {poison} quarantined after failing alone 3 times" in relay.log()

    listed = cli(relay, "--quarantined")
    assert listed.returncode == 0 and poison in listed.stdout and "biz-1" in listed.stdout
    assert "failed alone 3 times" in listed.stdout
    as_json = json.loads(cli(relay, "--quarantined", "--json").stdout)
    assert [e["id"] for e in as_json] == [poison]
    shown = cli(relay, "show", poison)
    assert "quarantined" in shown.stdout and expected in shown.stdout
    assert json.loads(bodies[13]).get("data") and '"object"' not in shown.stdout  # no body

    relay.recorder.control()  # the cause is fixed (a new tap version, say)
    retried = cli(relay, "retry", poison)
    assert retried.returncode == 0, retried.stderr
    assert states(relay)[poison] == "pending"
    eventually(lambda: states(relay)[poison] == "done", what="the re-queued event loaded")
    assert httpx.get(f"{relay.url}/healthz").json()["status"] == "ok"
    again = cli(relay, "retry", poison, "evt_never_stored")
    assert again.returncode == 1
    assert f"{poison}: not quarantined (it is done)" in again.stderr
    assert "evt_never_stored: no such event" in again.stderr


def test_two_poisons_in_the_first_run_of_a_new_store_stall_nothing(
    relay_factory, new_event, eventually
):
    """No event was ever loaded (nothing to probe with), and each failure names one poison."""
    relay = relay_factory(
        "--debounce",
        "1",
        "--max-wait",
        "5",
        "--retry-base",
        "0.2",
        "--retry-max",
        "1",
        "--quarantine-after",
        "2",
    )
    bodies = [new_event(business_id=f"biz-{n % 2}") for n in range(6)]
    poisons = (json.loads(bodies[1])["id"], json.loads(bodies[4])["id"])
    relay.recorder.control(poison_ids=poisons, output="refused record of {first}")
    ids = post_all(relay, bodies)
    healthy = [i for i in ids if i not in poisons]
    eventually(
        lambda: all(states(relay)[i] == "done" for i in healthy),
        timeout=30,
        what="the four healthy events loaded",
    )
    eventually(
        lambda: all(states(relay)[p] == "quarantined" for p in poisons),
        timeout=30,
        what="both poisons quarantined",
    )


def test_a_business_the_token_cannot_see_stalls_no_other_business(
    relay_factory, new_event, eventually
):
    relay = relay_factory(*FAST, "--quarantine-after", "2")
    relay.recorder.control(
        poison_businesses=("biz-gone",), output="GraphQL error NOT_FOUND: Business not found"
    )
    bad = post_all(relay, [new_event(business_id="biz-gone") for _ in range(3)])
    good = post_all(relay, [new_event(business_id=f"biz-ok-{n}") for n in range(4)])
    eventually(
        lambda: all(states(relay)[i] == "done" for i in good),
        timeout=30,
        what="the other businesses' events loaded",
    )
    eventually(
        lambda: all(states(relay)[i] == "quarantined" for i in bad),
        timeout=60,
        what="each event of the invisible business quarantined",
    )
    reasons = {e["quarantine_reason"] for e in relay.events() if e["id"] in bad}
    assert all("NOT_FOUND" in reason for reason in reasons)


def test_an_outage_narrows_nothing_and_quarantines_nothing(relay_factory, new_event, eventually):
    relay = relay_factory(
        "--debounce",
        "0.3",
        "--max-wait",
        "1",
        "--retry-base",
        "0.2",
        "--retry-max",
        "0.8",
        "--quarantine-after",
        "1",
    )
    (before,) = post_all(relay, [new_event(business_id="biz-before")])
    eventually(lambda: states(relay)[before] == "done", what="an event loaded before the outage")
    relay.recorder.control(fail_runs=10**6, output="cannot reach the warehouse")  # down
    ids = post_all(relay, [new_event(business_id=f"biz-{n % 3}") for n in range(12)])
    eventually(lambda: len(relay.recorder.ends()) >= 16, timeout=30, what="failed runs")
    assert not any(e["state"] == "quarantined" for e in relay.events())
    runs = [[e["id"] for e in r["events"]] for r in relay.recorder.starts()[1:]]
    probes = [r for r in runs if r == [before]]
    assert probes, "the relay checks the pipeline with an event it loaded before"
    # Split by business, never below: one batch per business, no halves, no event alone.
    batches = {e["batch"] for e in relay.events() if e["state"] == "pending"}
    assert batches == {f"business:biz-{n}" for n in range(3)}
    relay.recorder.control()  # back
    eventually(lambda: set(states(relay).values()) == {"done"}, timeout=30, what="all loaded")
    assert set(states(relay)) == {before, *ids}
    assert "a probe: an event loaded before, run again" in relay.log()


def test_an_event_stored_before_the_door_checked_it_is_quarantined_without_a_run(
    relay_factory, new_event, eventually
):
    relay = relay_factory(*FAST, start=False)
    relay.db.parent.mkdir(parents=True)
    huge = "Q" * 140_000
    with sqlite3.connect(relay.db) as conn:  # as the previous relay version stored it
        conn.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL"
            " UNIQUE, business_id TEXT NOT NULL, type TEXT NOT NULL, entity_id TEXT,"
            " created_at TEXT, received_at TEXT NOT NULL, body TEXT NOT NULL, state TEXT"
            " NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, done_at"
            " TEXT)"
        )
        conn.execute(
            "INSERT INTO events (id, business_id, type, received_at, body) VALUES"
            " ('evt_legacy', ?, 'invoice.updated', '2026-11-28T12:00:00.000Z', '{}')",
            (huge,),
        )
    relay.start()
    (good,) = post_all(relay, [new_event(business_id="biz-fine")])
    eventually(
        lambda: states(relay) == {"evt_legacy": "quarantined", good: "done"},
        what="legacy event quarantined, new one loaded",
    )
    legacy = next(e for e in relay.events() if e["id"] == "evt_legacy")
    assert legacy["quarantine_reason"].startswith("invalid_businessId (140000 characters)")
    assert all(huge not in json.dumps(r["env"]) for r in relay.recorder.starts())
