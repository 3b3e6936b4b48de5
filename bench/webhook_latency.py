"""How long a change made in Wave takes to be visible in the warehouse, through webhooks.

Starts a Wave sandbox whose webhooks go to the real relay (`--debounce 0.3 --max-wait 3`), which
starts real `meltano run`s (tap-wave in events mode -> target-databricks-upsert -> DuckDB) in a
throwaway copy of the repo's Meltano project, after one full run. Then, one at a time, patches an
invoice through the sandbox's GraphQL API and waits until the relay marks the webhook done - its
run has exited 0, so the target has committed - and confirms the new value in DuckDB. DuckDB has
a single writer, so the file is read only between runs: the figure is an upper bound of when the
row became visible (it includes Meltano's shutdown after the commit).

Each event run starts three Python programs (meltano, the tap, the target), so start-up is most
of it. Three set-ups, each on a fresh stack, their samples interleaved so the machine's load
weighs on all alike:
- `--no-warm-start --no-catalog-cache`: the relay as it was: every run imports Meltano, and
  Meltano runs the tap's discovery (one more tap process) before the run;
- `--no-warm-start`: the tap's catalog discovered once by the relay (catalog_cache.py);
- the relay as shipped: that, and the next run's meltano started ahead of time with Meltano
  imported (warm_start.py).
Prints p50 / p95 of each against the 3 s goal, where the time goes, and the start-up costs the
relay saves.

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

from bench.report import Figure, add_arguments, emit
from testkit.meltano_project import MELTANO, make_project, meltano, point_at
from testkit.pipeline import warehouse_rows
from testkit.wave_changes import BusinessChanges

GOAL_SECONDS = 3.0  # issue 12: webhook -> row visible p95 <= 3 s on DuckDB
SECRET = "latency-bench-secret"
BOOKS = {
    "businesses": 2,
    "seed": 9,
    "customers": 20,
    "vendors": 3,
    "products": 8,
    "invoices": 60,
    "estimates": 5,
}


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


def one_change(
    relay: RelayProcess,
    changes: BusinessChanges,
    invoice_id: str,
    memo: str,
    warehouse: Path,
    timeout: float = 60.0,
) -> dict[str, float]:
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
            raise TimeoutError(
                f"{memo}: not loaded after {timeout}s; relay log:\n" + relay.log()[-2000:]
            )
        time.sleep(0.02)
    ((seen,),) = warehouse_rows(
        warehouse, "SELECT memo FROM wave.invoices WHERE id = ?", [invoice_id]
    )
    if seen != memo:
        raise AssertionError(f"the run finished but DuckDB shows memo {seen!r}, not {memo!r}")
    run = next(r for r in reversed(relay.runs()) if r["max_seq"] >= mine[-1]["seq"])
    received = epoch(mine[0]["received_at"])
    return {
        "total": loaded,
        "delivery": received - started_wall,
        "queue": epoch(run["started_at"]) - received,
        "run": epoch(run["finished_at"]) - epoch(run["started_at"]),
    }


@dataclass
class Stack:
    """One set-up's running relay and sandbox, and what its changes touch."""

    relay: RelayProcess
    changes: BusinessChanges
    invoices: list[str]
    warehouse: Path

    def change(self, label: str, n: int) -> dict[str, float]:
        return one_change(
            self.relay,
            self.changes,
            self.invoices[n % len(self.invoices)],
            f"{label} {n}",
            self.warehouse,
        )

    def discovers(self) -> bool:
        """Whether the latest event run still ran catalog discovery."""
        log = self.relay.db.parent / "run-logs" / f"{self.relay.runs()[-1]['run_id']}.log"
        return "Running catalog discovery" in log.read_text()


@contextlib.contextmanager
def running_stack(root: Path, relay_flags: tuple[str, ...] = ()) -> Iterator[Stack]:
    """A fresh project, relay (with `relay_flags`) and sandbox, after a full run."""
    project = make_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    with (
        start_webhook_relay(
            root / "relay" / "events.db",
            project,
            SECRET,
            debounce=0.3,
            max_wait=3,
            extra_args=["--meltano-bin", str(MELTANO), *relay_flags],
        ) as relay,
        start_wave_sandbox(
            **BOOKS, webhook_url=relay.webhook_url, webhook_secret=SECRET
        ) as sandbox,
    ):
        point_at(project, sandbox, warehouse)
        meltano(project, "--environment", "dev", "run", "tap-wave", "target-databricks-upsert")
        business_id = sandbox.business_ids()[0]
        invoices = [
            row[0]
            for row in warehouse_rows(
                warehouse,
                "SELECT id FROM wave.invoices WHERE business_id = ? ORDER BY id",
                [business_id],
            )
        ]
        yield Stack(relay, BusinessChanges(sandbox, business_id), invoices, warehouse)


def figures(name: str, results: list[dict]) -> list[Figure]:
    totals = [r["total"] for r in results]
    parts = {
        part: statistics.mean(r[part] for r in results) for part in ("delivery", "queue", "run")
    }
    print(
        f"{name}: mean parts: webhook delivery {parts['delivery']:.2f}s, debounce+queue "
        f"{parts['queue']:.2f}s, meltano run {parts['run']:.2f}s"
    )
    return [
        Figure(
            "webhook -> row latency",
            f"{metric}, {name}",
            value,
            "s",
            f"goal {GOAL_SECONDS:.0f} s",
            value / GOAL_SECONDS,
            "<=1",
        )
        for metric, value in (("p50", statistics.median(totals)), ("p95", percentile(totals, 0.95)))
    ]


SETUPS = (
    ("relay before", ("--no-warm-start", "--no-catalog-cache")),
    ("relay, catalog once", ("--no-warm-start",)),
    ("relay as shipped", ()),
)


def how_runs_started(relay: RelayProcess) -> str:
    metrics = relay.metrics()
    runs = int(metrics.get("webhook_relay_runs_started_total", 0))
    warm = int(metrics.get("webhook_relay_runs_warm_started_total", 0))
    cached = int(metrics.get("webhook_relay_runs_with_cached_catalog_total", 0))
    return f"{runs} runs: {warm} warm-started, {cached} given the cached catalog"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8, help="changes per set-up (default 8)")
    add_arguments(parser)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    results: dict[str, list[dict]] = {name: [] for name, _ in SETUPS}
    with (
        tempfile.TemporaryDirectory(prefix="webhook-latency-") as tmp,
        contextlib.ExitStack() as running,
    ):
        stacks = {
            name: running.enter_context(running_stack(Path(tmp) / f"setup-{n}", flags))
            for n, (name, flags) in enumerate(SETUPS)
        }
        for stack in stacks.values():  # the first run discovers; the catalog is built after it
            stack.change("warm-up", 0)
        for n in range(args.samples):  # interleaved: the machine's load weighs on all alike
            for name, stack in stacks.items():
                results[name].append(stack.change("sample", n))
        started = {name: how_runs_started(stack.relay) for name, stack in stacks.items()}
        discovers = {name: stack.discovers() for name, stack in stacks.items()}
    startup = wall_seconds([str(MELTANO), "--version"])
    discovery = wall_seconds([str(bin_dir / "tap-wave"), "--discover"])
    print(
        f"webhook -> warehouse latency: sandbox mutation to the row in DuckDB "
        f"({args.samples} invoice patches per set-up, relay --debounce 0.3 --max-wait 3)"
    )
    table: list[Figure] = []
    for name, _ in SETUPS:
        table += figures(name, results[name])
        print(
            f"{name}: {started[name]}; its last run "
            f"{'ran' if discovers[name] else 'skipped'} catalog discovery"
        )
    before, shipped = (
        percentile([r["total"] for r in results[name]], 0.95)
        for name in (SETUPS[0][0], SETUPS[-1][0])
    )
    table += [
        Figure(
            "webhook -> row latency",
            "p95, shipped vs before",
            shipped,
            "s",
            f"{before:.2f} s before",
            shipped / before,
        ),
        Figure("process start-up", "meltano --version", startup, "s"),
        Figure("process start-up", "tap-wave --discover", discovery, "s"),
    ]
    emit(table, args.figures_json)


if __name__ == "__main__":
    main()
