"""Webhook-targeted runs on Databricks: the relay's real `meltano run`s against the Databricks SQL
warehouse simulator with its latency model, side by side with the same on DuckDB.

Two stacks, each a Wave sandbox sending signed webhooks to a real relay (as shipped, `--debounce
0.3 --max-wait 3`) over a throwaway copy of the repo's Meltano project after one full run: one
writes to the simulator (warehouse: databricks; each statement waits the modelled latency of a
warm serverless SQL warehouse, sandbox/README.md), one to DuckDB. Then, one at a time and
interleaved, an invoice is patched through the sandbox's GraphQL API and:

- (a) **the targeted relay run for that one changed invoice**: its statements, by kind; those on
  its critical path (the most that ran one after another: statements the target submitted
  concurrently count once); the latency the model charged; the run's wall time. Goal (issue 12):
  at most 10 statements on the critical path.
- **webhook -> row visible**: from the mutation to the moment the row was committed in the
  warehouse. On the simulator that is when the write into `invoices` answered (from its statement
  log: the row is readable from then on); on DuckDB, when the run exited (DuckDB has one writer,
  so the file is read only between runs: an upper bound). p50 and p95; goals: 10 s on the
  simulator, 3 s on DuckDB. The new value is read back from both warehouses.

    .venv/bin/python -m bench.databricks_webhooks [--samples 4]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import start_webhook_relay

from bench.databricks_sim import (
    Statements,
    as_env,
    last_seq,
    latency_simulator,
    measured,
    statements_since,
    target_settings,
)
from bench.report import Figure, add_arguments, emit
from bench.webhook_latency import (
    BOOKS,
    SECRET,
    Stack,
    how_runs_started,
    percentile,
    running_stack,
)
from testkit.meltano_project import MELTANO, make_project, meltano, point_at
from testkit.wave_changes import BusinessChanges

CRITICAL_PATH_GOAL = 10
DATABRICKS_GOAL_SECONDS = 10.0
DUCKDB_GOAL_SECONDS = 3.0
_WRITE_INTO = re.compile(r"^\s*(?:MERGE\s+INTO|INSERT\s+INTO|UPDATE)\s+(\S+)", re.IGNORECASE)


def writes_invoices(entry: dict) -> bool:
    """A statement that wrote rows of the `invoices` table (not its child tables)."""
    found = _WRITE_INTO.match(entry["statement"])
    if not found or entry["status"] != "ok":
        return False
    table = found.group(1).replace("`", "").split(".")[-1]
    return table == "invoices" and (entry.get("counts") or {}).get("num_affected_rows", 0) > 0


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class DatabricksStack:
    """The relay over a project whose target writes to a schema of the simulator."""

    def __init__(
        self, relay, changes: BusinessChanges, invoices: list[str], simulator, settings: dict
    ) -> None:
        self.relay, self.changes, self.invoices = relay, changes, invoices
        self.simulator, self.settings = simulator, settings
        self.table = f"{settings['catalog']}.{settings['schema']}.invoices"

    def change(self, memo: str, n: int, timeout: float = 600.0) -> dict:
        """Patch an invoice; the run's statements, and when the row became visible."""
        invoice = self.invoices[n % len(self.invoices)]
        newest = max((e["seq"] for e in self.relay.events()), default=0)
        since = last_seq(self.simulator)
        changed_at = time.time()
        self.changes.patch_invoice(invoice, memo=memo)
        deadline = time.monotonic() + timeout
        while True:
            mine = [e for e in self.relay.events() if e["seq"] > newest]
            if mine and all(e["state"] == "done" for e in mine):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{memo}: not loaded after {timeout} s; relay log:\n" + self.relay.log()[-2000:]
                )
            time.sleep(0.05)
        statements = statements_since(self.simulator, since)
        written = [e for e in statements.entries if writes_invoices(e)]
        if not written or statements.errors():
            raise AssertionError(
                f"{memo}: no write into invoices, or errors: {statements.errors()[:3]}"
            )
        with self.simulator.connect() as conn, conn.cursor() as cursor:
            cursor.execute(f"SELECT memo FROM {self.table} WHERE id = :id", {"id": invoice})
            ((seen,),) = cursor.fetchall()
        if seen != memo:
            raise AssertionError(f"the run finished but the simulator shows {seen!r}, not {memo!r}")
        run = next(r for r in reversed(self.relay.runs()) if r["max_seq"] >= mine[-1]["seq"])
        return {
            "statements": statements,
            "visible": _at(written[0]["finished_at"]) - changed_at,
            "run": _at(run["finished_at"]) - _at(run["started_at"]),
        }


@contextlib.contextmanager
def databricks_stack(root: Path, simulator) -> Iterator[DatabricksStack]:
    project = make_project(root / "project")
    settings = target_settings(simulator, root / "target.config.json")
    with (
        start_webhook_relay(
            root / "relay" / "events.db",
            project,
            SECRET,
            debounce=0.3,
            max_wait=3,
            extra_args=["--meltano-bin", str(MELTANO)],
        ) as relay,
        start_wave_sandbox(**BOOKS, webhook_url=relay.webhook_url, webhook_secret=SECRET) as wave,
    ):
        point_at(project, wave, root / "unused.duckdb", **as_env(settings))
        meltano(
            project,
            "--environment",
            "dev",
            "run",
            "tap-wave",
            "target-databricks-upsert",
            timeout=900,
        )
        business_id = wave.business_ids()[0]
        with simulator.connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {settings['catalog']}.{settings['schema']}.invoices "
                "WHERE business_id = :b ORDER BY id",
                {"b": business_id},
            )
            invoices = [row[0] for row in cursor.fetchall()]
        yield DatabricksStack(
            relay, BusinessChanges(wave, business_id), invoices, simulator, settings
        )


def median_of(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4, help="changes per stack (default 4)")
    add_arguments(parser)
    args = parser.parse_args()
    results: list[dict] = []
    duckdb: list[dict] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-dbx-webhooks-") as tmp,
        latency_simulator() as simulator,
        contextlib.ExitStack() as running,
    ):
        dbx = running.enter_context(databricks_stack(Path(tmp) / "databricks", simulator))
        local: Stack = running.enter_context(running_stack(Path(tmp) / "duckdb"))
        dbx.change("warm-up", 0)  # the first run discovers; the catalog is built after it
        local.change("warm-up", 0)
        with measured(simulator):
            for n in range(args.samples):  # interleaved: the machine's load weighs on both
                results.append(dbx.change(f"sample {n}", n + 1))
                duckdb.append(local.change("sample", n + 1))
        for label, relay in (("databricks", dbx.relay), ("duckdb", local.relay)):
            print(f"relay runs on {label}: {how_runs_started(relay)}")
    runs: list[Statements] = [r["statements"] for r in results]
    for n, (result, statements) in enumerate(zip(results, runs, strict=True)):
        print(
            f"targeted run {n}: {statements.count} statements ({statements.detail()}); "
            f"critical path {statements.critical_path}; modelled latency "
            f"{statements.modelled_seconds:.1f} s; run {result['run']:.1f} s; row visible "
            f"{result['visible']:.1f} s after the change"
        )
    name = "databricks targeted run"
    count = median_of([s.count for s in runs])
    critical = median_of([s.critical_path for s in runs])
    visible = [r["visible"] for r in results]
    local_totals = [r["total"] for r in duckdb]
    table = [
        Figure(name, "statements (median)", count, "stmts"),
        Figure(
            name,
            "critical path (median)",
            critical,
            "stmts",
            f"goal {CRITICAL_PATH_GOAL} statements",
            critical / CRITICAL_PATH_GOAL,
            "<=1",
        ),
        Figure(
            name, "modelled latency (median)", median_of([s.modelled_seconds for s in runs]), "s"
        ),
        Figure(name, "run wall time (median)", median_of([r["run"] for r in results]), "s"),
    ]
    for label, values, goal in (
        ("databricks (simulated)", visible, DATABRICKS_GOAL_SECONDS),
        ("duckdb", local_totals, DUCKDB_GOAL_SECONDS),
    ):
        for metric, value in (
            ("p50", statistics.median(values)),
            ("p95", percentile(values, 0.95)),
        ):
            table.append(
                Figure(
                    "webhook -> row visible",
                    f"{metric}, {label}",
                    value,
                    "s",
                    f"goal {goal:.0f} s",
                    value / goal,
                    "<=1",
                )
            )
    table.append(
        Figure(
            "webhook -> row visible",
            "p95, databricks vs duckdb",
            percentile(visible, 0.95),
            "s",
            f"{percentile(local_totals, 0.95):.2f} s on duckdb",
            percentile(visible, 0.95) / percentile(local_totals, 0.95),
        )
    )
    emit(table, args.figures_json)


if __name__ == "__main__":
    main()
