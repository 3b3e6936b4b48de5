"""The month-end dbt project (transform/) through Meltano's dbt-duckdb utility, as a user runs it.

Used by the month-end tests and the demo: `meltano invoke dbt-duckdb build`, the close
(`meltano invoke dbt-duckdb run-operation close_month --args '{month: "YYYY-MM"}'`), and what
dbt's run_results.json says about each model and test.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MELTANO = str(Path(sys.executable).parent / "meltano")


def last_complete_month(today: datetime.date | None = None) -> datetime.date:
    """First day of the month before `today`'s: the month an accountant closes now."""
    first_of_this_month = (today or datetime.date.today()).replace(day=1)
    return (first_of_this_month - datetime.timedelta(days=1)).replace(day=1)


def dbt_env(warehouse: Path, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a dbt-duckdb invocation on `warehouse`, its target and logs in `workdir`."""
    return {
        **os.environ,
        "MELTANO_ENVIRONMENT": "dev",
        "DBT_DUCKDB_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(workdir / "dbt-target"),
        "DBT_LOG_PATH": str(workdir / "dbt-logs"),
        **extra,
    }


def install_dbt(plugin: str = "dbt-duckdb") -> subprocess.CompletedProcess[str]:
    """`meltano install --plugin-type utility <plugin>`: the utility's own venv (one install at a
    time in the project, whichever test process asks)."""
    lock_path = ROOT / ".meltano" / "install.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(
            [MELTANO, "install", "--plugin-type", "utility", plugin],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )


def install_dbt_duckdb() -> subprocess.CompletedProcess[str]:
    return install_dbt("dbt-duckdb")


def invoke_dbt(
    args: list[str], warehouse: Path, workdir: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """`meltano invoke dbt-duckdb <args>`; the caller checks the exit code and output."""
    return subprocess.run(
        [MELTANO, "invoke", "dbt-duckdb", *args],
        cwd=ROOT,
        env=dbt_env(warehouse, workdir, **extra_env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def close_month_args(month: datetime.date, **options: Any) -> list[str]:
    """run-operation arguments closing `month` (options: force, reason, business_ids, ...)."""
    return [
        "run-operation",
        "close_month",
        "--args",
        json.dumps({"month": month.strftime("%Y-%m"), **options}),
    ]


def run_results(workdir: Path) -> dict[str, dict[str, Any]]:
    """The last invocation's results by node name: status, failures, message."""
    results = json.loads((workdir / "dbt-target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[2]: {
            "status": r["status"],
            "failures": r["failures"],
            "message": r["message"],
        }
        for r in results
    }
