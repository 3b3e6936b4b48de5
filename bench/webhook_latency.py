"""How long a change made in Wave takes to be visible in the warehouse, through webhooks.

Starts a Wave sandbox whose webhooks go to the real relay (`--debounce 0.3 --max-wait 3`), which
starts real `meltano run`s (tap-wave in events mode -> target-databricks-upsert -> DuckDB) in a
throwaway copy of the repo's Meltano project, after one full run. Then, one at a time, patches an
invoice through the sandbox's GraphQL API and waits until the relay marks the webhook done - its
run has exited 0, so the target has committed - and confirms the new value in DuckDB. DuckDB has
a single writer, so the file is read only between runs: the figure is an upper bound of when the
row became visible (it includes Meltano's shutdown after the commit).

Each event run starts three Python programs (meltano, the tap, the target), so start-up is most
of it. Three set-ups, each on a fresh stack:
- the relay as shipped: its runs keep compiled bytecode beside the store (PYTHONPYCACHEPREFIX),
  even where PYTHONDONTWRITEBYTECODE is set, as it is here;
- the same, plus a catalog discovered once (`TAP_WAVE__CATALOG` in the relay's environment), so
  Meltano skips discovery (one tap start-up less per run);
- `--no-bytecode-cache`: every process compiles every module it imports, every time.
Prints p50 / p95 of each, their ratio to the 5 s goal, and where the time goes.

    .venv/bin/python -m bench.webhook_latency [--samples 8]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import RelayProcess, start_webhook_relay

from bench.meltano_project import MELTANO, discovered_catalog, make_project, meltano, point_at
from bench.pipeline import warehouse_rows
from bench.report import Figure, add_arguments, emit
from bench.wave_changes import BusinessChanges

GOAL_SECONDS = 5.0
SECRET = "latency-bench-secret"
BOOKS = {"businesses": 2, "seed": 9, "customers": 20, "vendors": 3, "products": 8,
         "invoices": 60, "estimates": 5}


def wall_seconds(command: list[str], repeats: int = 3) -> float:
    """Median wall time of a command (start-up costs)."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def one_change(relay: RelayProcess, changes: BusinessChanges, invoice_id: str, memo: str,
               warehouse: Path, timeout: float = 60.0) -> dict[str, float]:
    """Patch an invoice; seconds until loaded, and the parts: delivery, queue, run."""
    newest = max((e["seq"] for e in relay.events()), default=0)
    started_wall, started = time.time(), time.perf_counter()
    changes.patch_invoice(invoice_id, memo=memo)
    deadline = started + timeout
    while True:
        mine = [e for e in relay.events() if e["seq"] > newest]
        if mine and all(e["state"] == "done" for e in mine):
            loaded = time.perf_counter() - started
            break
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{memo}: not loaded after {timeout}s; relay log:\n"
                               + relay.log()[-2000:])
        time.sleep(0.02)
    (seen,), = warehouse_rows(warehouse, "SELECT memo FROM wave.invoices WHERE id = ?",
                              [invoice_id])
    if seen != memo:
        raise AssertionError(f"the run finished but DuckDB shows memo {seen!r}, not {memo!r}")
    run = next(r for r in reversed(relay.runs()) if r["max_seq"] >= mine[-1]["seq"])
    received = epoch(mine[0]["received_at"])
    return {"total": loaded, "delivery": received - started_wall,
            "queue": epoch(run["started_at"]) - received,
            "run": epoch(run["finished_at"]) - epoch(run["started_at"])}


@dataclass
class Stack:
    """One set-up's running relay and sandbox, and what its changes touch."""

    relay: RelayProcess
    changes: BusinessChanges
    invoices: list[str]
    warehouse: Path

    def change(self, label: str, n: int) -> dict[str, float]:
        return one_change(self.relay, self.changes, self.invoices[n % len(self.invoices)],
                          f"{label} {n}", self.warehouse)

    def discovers(self) -> bool:
        """Whether the latest event run still ran catalog discovery."""
        log = self.relay.db.parent / "run-logs" / f"{self.relay.runs()[-1]['run_id']}.log"
        return "Running catalog discovery" in log.read_text()


@contextlib.contextmanager
def running_stack(root: Path, catalog: bool = False,
                  bytecode_cache: bool = True) -> Iterator[Stack]:
    """A fresh project, relay and sandbox, after a full run."""
    project = make_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    relay_env = {}
    if catalog:
        relay_env["TAP_WAVE__CATALOG"] = str(discovered_catalog(project, root / "catalog.json"))
    relay_flags = ["--meltano-bin", str(MELTANO)]
    if not bytecode_cache:
        relay_flags.append("--no-bytecode-cache")
    with start_webhook_relay(root / "relay" / "events.db", project, SECRET, debounce=0.3,
                             max_wait=3, extra_args=relay_flags, env=relay_env) as relay, \
            start_wave_sandbox(**BOOKS, webhook_url=relay.webhook_url,
                               webhook_secret=SECRET) as sandbox:
        point_at(project, sandbox, warehouse)
        meltano(project, "--environment", "dev", "run", "tap-wave", "target-databricks-upsert")
        business_id = sandbox.business_ids()[0]
        invoices = [row[0] for row in warehouse_rows(
            warehouse, "SELECT id FROM wave.invoices WHERE business_id = ? ORDER BY id",
            [business_id])]
        yield Stack(relay, BusinessChanges(sandbox, business_id), invoices, warehouse)


def figures(name: str, results: list[dict]) -> list[Figure]:
    totals = [r["total"] for r in results]
    parts = {part: statistics.mean(r[part] for r in results)
             for part in ("delivery", "queue", "run")}
    print(f"{name}: mean parts: webhook delivery {parts['delivery']:.2f}s, debounce+queue "
          f"{parts['queue']:.2f}s, meltano run {parts['run']:.2f}s")
    return [Figure("webhook -> row latency", f"{metric}, {name}", value, "s",
                   f"goal {GOAL_SECONDS:.0f} s", value / GOAL_SECONDS, "<=1")
            for metric, value in (("p50", statistics.median(totals)),
                                  ("p95", percentile(totals, 0.95)))]


SETUPS = (
    ("relay as shipped", {}),
    ("relay, cached catalog", {"catalog": True}),
    ("relay --no-bytecode-cache", {"bytecode_cache": False}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8, help="changes per set-up (default 8)")
    add_arguments(parser)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    results: dict[str, list[dict]] = {name: [] for name, _ in SETUPS}
    with tempfile.TemporaryDirectory(prefix="webhook-latency-") as tmp, \
            contextlib.ExitStack() as running:
        stacks = {name: running.enter_context(running_stack(Path(tmp) / f"setup-{n}", **options))
                  for n, (name, options) in enumerate(SETUPS)}
        for stack in stacks.values():
            stack.change("warm-up", 0)
        for n in range(args.samples):  # interleaved: the machine's load weighs on all alike
            for name, stack in stacks.items():
                results[name].append(stack.change("sample", n))
        discovers = {name: stack.discovers() for name, stack in stacks.items()}
    startup = wall_seconds([str(MELTANO), "--version"])
    discovery = wall_seconds([str(bin_dir / "tap-wave"), "--discover"])
    print(f"webhook -> warehouse latency: sandbox mutation to the row in DuckDB "
          f"({args.samples} invoice patches per set-up, relay --debounce 0.3 --max-wait 3)")
    table: list[Figure] = []
    for name, _ in SETUPS:
        table += figures(name, results[name])
        if "no discovery" in name and discovers[name]:
            print(f"{name}: but Meltano still ran discovery (TAP_WAVE__CATALOG was not used)")
    table += [Figure("process start-up", "meltano --version", startup, "s"),
              Figure("process start-up", "tap-wave --discover", discovery, "s")]
    emit(table, args.figures_json)


if __name__ == "__main__":
    main()
