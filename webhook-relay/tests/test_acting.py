"""The worker: retries with backoff, serializes on the run lock, builds the targeted command."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path


def event_state(relay, event_id: str) -> str:
    return next(e["state"] for e in relay.events() if e["id"] == event_id)


def test_failed_run_is_retried_with_backoff_and_events_done_only_after_success(
    relay_factory, new_event, eventually
):
    relay = relay_factory("--debounce", "0.1", "--max-wait", "1", "--retry-base", "0.5")
    relay.recorder.control(fail_runs=2)
    body = new_event(business_id="biz-retry")
    event_id = json.loads(body)["id"]
    assert relay.post(body).status_code == 202
    eventually(lambda: event_state(relay, event_id) == "done", what="event done after retries")

    starts, ends = relay.recorder.starts(), relay.recorder.ends()
    assert [e["exit_code"] for e in ends] == [3, 3, 0]
    # Each attempt saw the event still pending: failures never marked it done.
    assert all(event_id in {e["id"] for e in run["events"]} for run in starts)
    first_gap = starts[1]["time"] - ends[0]["time"]
    second_gap = starts[2]["time"] - ends[1]["time"]
    assert first_gap >= 0.5 and second_gap >= 1.0  # 0.5 s, then doubled
    assert [r["status"] for r in relay.runs()] == ["failed", "failed", "succeeded"]
    assert [r["attempt"] for r in relay.runs()] == [1, 2, 3]
    (row,) = relay.events()
    assert row["attempts"] == 3
    samples = relay.metrics()
    assert samples["webhook_relay_runs_failed_total"] == 2
    assert samples["webhook_relay_runs_succeeded_total"] == 1


def test_event_arriving_during_a_run_waits_for_the_next_run(relay_factory, new_event, eventually):
    relay = relay_factory("--debounce", "0.1", "--max-wait", "1")
    relay.recorder.control(sleep=2)
    early = new_event(business_id="biz-seq")
    assert relay.post(early).status_code == 202
    eventually(lambda: relay.recorder.starts(), what="first run start")
    late = new_event(business_id="biz-seq")
    assert relay.post(late).status_code == 202
    eventually(lambda: event_state(relay, json.loads(early)["id"]) == "done", what="first run")
    assert event_state(relay, json.loads(late)["id"]) == "pending"  # the next run takes 2 s
    eventually(lambda: event_state(relay, json.loads(late)["id"]) == "done", what="second run")
    first, second = relay.recorder.starts()
    assert [e["id"] for e in first["events"]] == [json.loads(early)["id"]]
    assert [e["id"] for e in second["events"]] == [json.loads(late)["id"]]


def test_no_run_starts_while_another_runner_holds_the_project_lock(
    relay_factory, new_event, eventually
):
    relay = relay_factory("--debounce", "0.1", "--max-wait", "1", start=False)
    lock_file = relay.project / ".meltano" / "run.lock"
    lock_file.parent.mkdir(parents=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the daily job, say
    try:
        relay.start()
        assert relay.post(new_event(business_id="biz-locked")).status_code == 202
        time.sleep(2)
        assert relay.recorder.starts() == []
        assert relay.events()[0]["state"] == "pending"
    finally:
        os.close(fd)
    eventually(lambda: relay.events()[0]["state"] == "done", what="run after the lock is freed")


def test_locked_run_command_holds_the_lock_for_the_daily_job(relay_factory, tmp_path):
    relay = relay_factory(start=False)
    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError: sys.exit(7)\n"
    )
    lock_file = relay.project / ".meltano" / "run.lock"
    relay_bin = Path(sys.executable).parent / "webhook-relay"
    done = subprocess.run(
        [str(relay_bin), "locked-run", "--meltano-project", str(relay.project), "--",
         sys.executable, "-c", probe, str(lock_file)],
        check=False,
    )  # fmt: skip
    assert done.returncode == 7  # the wrapped command could not take the lock: it was held


def test_default_command_is_a_targeted_meltano_run(relay_factory, new_event, eventually):
    relay = relay_factory(start=False)
    fake_meltano = relay.project.parent / "fake-meltano"
    recorder_script = Path(__file__).parent / "record_run.py"
    fake_meltano.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{recorder_script}" "$@"\n')
    fake_meltano.chmod(fake_meltano.stat().st_mode | stat.S_IEXEC)
    # Debounce: both events in one run, even on a slow machine.
    relay.start("--debounce", "1", "--max-wait", "5", "--meltano-bin", str(fake_meltano),
                "--environment", "prod", "--state-id-suffix", "webhooks")  # fmt: skip
    events = [
        new_event(business_id="biz-b", event_type="customer.created"),
        new_event(business_id="biz-a", event_type="transaction.created"),
    ]
    for body in events:
        assert relay.post(body).status_code == 202
    eventually(lambda: relay.recorder.ends(), what="the run")
    (run,) = relay.recorder.starts()
    run_id = run["env"]["WEBHOOK_RELAY_RUN_ID"]
    assert str(uuid.UUID(run_id)) == run_id
    assert run["argv"][1:] == [
        "--environment", "prod", "run", "--state-id-suffix", "webhooks", "--run-id", run_id,
        "--force", "tap-wave", "target-databricks-upsert",
    ]  # fmt: skip
    assert Path(run["cwd"]) == relay.project
    assert json.loads(run["env"]["TAP_WAVE_BUSINESS_IDS"]) == ["biz-a", "biz-b"]
    assert json.loads(run["env"]["TAP_WAVE__SELECT_FILTER"]) == [
        "customers", "transactions", "webhook_events",
    ]  # fmt: skip
    assert Path(run["env"]["TAP_WAVE_EVENTS_DB"]) == relay.db
    assert run["env"]["TAP_WAVE_SYNC_MODE"] == "events"
    # runs keep compiled bytecode beside the store, whatever the relay's own environment says
    assert run["env"]["PYTHONPYCACHEPREFIX"] == str(relay.db.parent / "pycache")
    assert "PYTHONDONTWRITEBYTECODE" not in run["env"]
    assert run["env"]["MELTANO_ENVIRONMENT"] == "prod"
    assert (relay.db.parent / "run-logs" / f"{run_id}.log").exists()


def test_missing_secret_is_a_clear_error_at_start(tmp_path):
    relay_bin = Path(sys.executable).parent / "webhook-relay"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAVE_WEBHOOK_SECRET")}
    done = subprocess.run(
        [str(relay_bin), "serve", "--db", str(tmp_path / "e.db"), "--meltano-project",
         str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "WAVE_WEBHOOK_SECRET is not set" in done.stderr
    assert not (tmp_path / "e.db").exists()


def test_unstartable_run_command_counts_as_a_failed_run(relay_factory, new_event, eventually):
    relay = relay_factory("--debounce", "0.1", "--max-wait", "1", "--retry-base", "60",
                          "--meltano-bin", "/nonexistent/meltano")  # fmt: skip
    assert relay.post(new_event(business_id="biz-nobin")).status_code == 202
    eventually(lambda: relay.metrics().get("webhook_relay_runs_failed_total") == 1,
               what="failed run counted")  # fmt: skip
    assert relay.events()[0]["state"] == "pending"
    assert "could not start '/nonexistent/meltano'" in relay.log()
