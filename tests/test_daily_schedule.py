"""The daily job as an operator runs it on a fresh clone: `meltano schedule run wave-daily` in a
copy of the repository's Meltano project where nothing was created by hand (no `output/` folder:
the dev environment's DuckDB file is `output/warehouse.duckdb`, which the target creates).

The schedule runs under the project's run lock, the one the webhook relay's runs take: while
another runner holds it the schedule waits and writes nothing; once it is free, the schedule's run
holds it for as long as it loads, then the warehouse holds the sandbox's books.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testkit.meltano_project import MELTANO, make_project, meltano
from testkit.pipeline import sandbox_invoices, warehouse_invoices

pytestmark = pytest.mark.slow
WAIT_WHILE_LOCKED = 8.0


def try_lock(path: Path) -> bool:
    """Whether the run lock was free (taken and released at once); False while someone holds it."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_daily_schedule_waits_for_the_run_lock_and_loads_from_a_fresh_clone(tmp_path, wave_sandbox):
    project = make_project(tmp_path / "project")
    meltano(project, "install", "utility", "webhook-relay")
    (project / ".env").write_text(
        f"TAP_WAVE_API_URL='{wave_sandbox.graphql_url}'\n"
        f"TAP_WAVE_TOKEN_URL='{wave_sandbox.token_url}'\n"
        f"TAP_WAVE_ACCESS_TOKEN='{wave_sandbox.access_token}'\n"
    )
    assert not (project / "output").exists()
    lock_path = project / ".meltano" / "run.lock"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    with lock_path.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a relay run, say
        daily = subprocess.Popen(
            [str(MELTANO), "schedule", "run", "wave-daily"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(WAIT_WHILE_LOCKED)
        assert daily.poll() is None, daily.communicate()[0][-3000:]
        assert not (project / "output").exists(), "the daily run wrote while the lock was held"
        fcntl.flock(held, fcntl.LOCK_UN)

    held_by_the_run = False
    while daily.poll() is None:
        held_by_the_run = held_by_the_run or not try_lock(lock_path)
        time.sleep(0.3)
    output = daily.communicate(timeout=300)[0]
    assert daily.returncode == 0, output[-3000:]
    assert held_by_the_run, "the daily run loaded without holding the run lock"
    warehouse = project / "output" / "warehouse.duckdb"
    assert warehouse_invoices(warehouse) == sandbox_invoices(wave_sandbox)
