"""What the relay saves at each run's start, with a stand-in Meltano (tests/fake_meltano, a real
console script of a ``meltano.cli`` found first on PYTHONPATH): the run is handed to a process
that imported Meltano before the webhook came, and gets exactly what a plain start gets; the tap's
catalog is discovered once, given to the runs, and discovered again when meltano.yml changes."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

FAKE_PACKAGE = Path(__file__).parent / "fake_meltano"


def console_script(path: Path) -> Path:
    """A `meltano` console script as pip and uv write them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\n# -*- coding: utf-8 -*-\nimport sys\n"
        'from meltano.cli import main\nif __name__ == "__main__":\n'
        "    sys.exit(main())\n"
    )
    path.chmod(0o755)
    return path


def phase(relay, name: str) -> list[dict]:
    return [e for e in relay.recorder.entries() if e["phase"] == name]


def test_run_is_handed_to_a_meltano_started_ahead_with_what_a_plain_start_gets(
    relay_factory, new_event, eventually
):
    relay = relay_factory(start=False)
    meltano = console_script(relay.project.parent / "bin" / "meltano")
    relay.env["PYTHONPATH"] = str(FAKE_PACKAGE)
    relay.start("--debounce", "0.2", "--max-wait", "5", "--meltano-bin", str(meltano),
                "--environment", "prod", "--no-catalog-cache")  # fmt: skip
    eventually(lambda: phase(relay, "imported"), what="the next run's meltano imported")
    posted_at = time.time()
    assert relay.post(new_event(business_id="biz-w", event_type="invoice.paid")).status_code == 202
    eventually(lambda: relay.recorder.ends(), what="the run")

    (run,) = relay.recorder.starts()
    (handed,) = [e for e in phase(relay, "handed") if e["pid"] == run["pid"]]
    (imported,) = [e for e in phase(relay, "imported") if e["pid"] == run["pid"]]
    assert imported["time"] < posted_at  # Meltano was imported before the webhook came
    run_id = run["env"]["WEBHOOK_RELAY_RUN_ID"]
    assert str(uuid.UUID(run_id)) == run_id
    assert handed["argv"] == [
        str(meltano), "--environment", "prod", "run", "--state-id-suffix", "relay", "--run-id",
        run_id, "--force", "tap-wave", "target-databricks-upsert",
    ]  # fmt: skip
    assert Path(run["cwd"]) == relay.project
    assert json.loads(run["env"]["TAP_WAVE_BUSINESS_IDS"]) == ["biz-w"]
    assert json.loads(run["env"]["TAP_WAVE__SELECT_FILTER"]) == ["invoices", "webhook_events"]
    assert run["env"]["TAP_WAVE_SYNC_MODE"] == "events"
    assert Path(run["env"]["TAP_WAVE_EVENTS_DB"]) == relay.db
    assert run["env"]["MELTANO_ENVIRONMENT"] == "prod"
    assert run["env"]["PYTHONPYCACHEPREFIX"] == str(relay.db.parent / "pycache")
    assert "TAP_WAVE__CATALOG" not in run["env"]  # --no-catalog-cache
    # The run's own output goes to its log; it holds the project's run lock itself.
    run_log = relay.db.parent / "run-logs" / f"{run_id}.log"
    assert handed["stdout"] == handed["stderr"] == str(run_log)
    assert str(relay.project / ".meltano" / "run.lock") in handed["open_files"]
    assert run["lock_held"]
    eventually(lambda: relay.events()[0]["state"] == "done", what="the event done")
    assert relay.metrics()["webhook_relay_runs_warm_started_total"] == 1
    # The next run's process is waiting already; if the relay dies, it reads end-of-file and
    # exits without running anything.
    eventually(lambda: len(phase(relay, "imported")) == 2, what="the next one started")
    waiting = phase(relay, "imported")[-1]["pid"]
    relay.kill9()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(waiting):
        time.sleep(0.05)
    assert not _alive(waiting)
    assert len(relay.recorder.starts()) == 1


def test_catalog_is_discovered_once_for_the_runs_and_again_after_meltano_yml_changes(
    relay_factory, new_event, eventually
):
    relay = relay_factory(start=False)
    meltano = console_script(relay.project.parent / "bin" / "meltano")
    relay.env["PYTHONPATH"] = str(FAKE_PACKAGE)
    project_file = relay.project / "meltano.yml"
    project_file.write_text("project_id: relay-test\n")
    relay.start("--debounce", "0.1", "--max-wait", "2", "--meltano-bin", str(meltano),
                "--no-warm-start")  # fmt: skip
    cached = relay.db.parent / "tap-wave.catalog.json"

    def run_one(n: int) -> dict:
        assert relay.post(new_event(business_id=f"biz-{n}")).status_code == 202
        eventually(lambda: len([e for e in relay.events() if e["state"] == "done"]) == n,
                   what=f"run {n} done")  # fmt: skip
        return relay.recorder.starts()[-1]

    first = run_one(1)  # discovers as Meltano always does; the catalog is built after it
    assert "TAP_WAVE__CATALOG" not in first["env"]
    (build,) = phase(relay, "catalog")
    assert build["argv"][1:] == ["--environment", "dev", "invoke", "--dump=catalog", "tap-wave"]
    assert build["select_filter"] is None and Path(build["cwd"]) == relay.project
    assert json.loads(cached.read_text())["streams"][0]["tap_stream_id"] == "invoices"

    second = run_one(2)
    assert second["env"]["TAP_WAVE__CATALOG"] == str(cached)
    assert len(phase(relay, "catalog")) == 1  # built once

    project_file.write_text("project_id: relay-test\n# select rules changed\n")
    third = run_one(3)  # meltano.yml changed: this run discovers, and the catalog is rebuilt
    assert "TAP_WAVE__CATALOG" not in third["env"]
    assert len(phase(relay, "catalog")) == 2
    assert run_one(4)["env"]["TAP_WAVE__CATALOG"] == str(cached)
    assert relay.metrics()["webhook_relay_runs_with_cached_catalog_total"] == 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not alive (its parent reaps it later)
        return stat.read().split(") ")[-1][0] != "Z"
