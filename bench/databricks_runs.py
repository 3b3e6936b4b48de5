"""Daily runs on Databricks, through the real CLIs, on the simulator with its latency model.

`tap-wave | target-databricks-upsert` (warehouse: databricks) against the Databricks SQL warehouse
simulator, each statement waiting the modelled latency of a warm serverless SQL warehouse
(sandbox/README.md, "The latency model"):

- (b) **a daily run with nothing changed** in Wave: two businesses, every stream, run again from
  the STATE of a full sync (set up with the model off). Counted: the statements, those on the
  critical path, the modelled latency and the wall time; and the data rows the run rewrote:
  rows whose `_updated_at` moved (read from the tables before and after), and the rows the
  MERGEs reported updating (Databricks' `num_updated_rows`). Goals (issue 12): at most 12
  statements, 0 rows rewritten.
- (c) **a full sync of 10 businesses** from an empty schema, with the model on: statements (per
  business too), critical path, modelled latency, wall time.

    .venv/bin/python -m bench.databricks_runs [--invoices 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from wave_sandbox.testing import start_wave_sandbox

from bench.databricks_sim import (
    Statements,
    last_seq,
    latency_simulator,
    measured,
    rows_moved_since,
    statements_since,
    target_settings,
    updated_marks,
)
from bench.report import Figure, add_arguments, emit
from testkit.pipeline import run_tap_to_target

STATEMENTS_GOAL = 12  # a no-change daily run, issue 12


def books(businesses: int, invoices: int) -> dict:
    return {
        "businesses": businesses,
        "seed": 12,
        "customers": 20,
        "vendors": 3,
        "products": 8,
        "invoices": invoices,
        "estimates": 5,
    }


def timed_run(
    wave, workdir: Path, settings: dict, state: dict | None = None
) -> tuple[dict | None, float]:
    started = time.monotonic()
    new_state = run_tap_to_target(
        wave, workdir, workdir / "unused.duckdb", state=state, target_overrides=settings
    )
    return new_state, time.monotonic() - started


def run_figures(name: str, label: str, statements: Statements, wall: float) -> list[Figure]:
    print(
        f"{label}: {statements.count} statements ({statements.detail()}); critical path "
        f"{statements.critical_path}; modelled latency {statements.modelled_seconds:.1f} s; "
        f"wall {wall:.1f} s"
    )
    if statements.errors():
        raise SystemExit(f"{label}: statements failed: {statements.errors()[:3]}")
    return [
        Figure(
            name,
            "statements on the critical path",
            statements.critical_path,
            "stmts",
            f"{statements.count} statements in all",
        ),
        Figure(
            name,
            "wall time, latency model on",
            wall,
            "s",
            f"{statements.modelled_seconds:.1f} s of modelled latency",
            wall / statements.modelled_seconds if statements.modelled_seconds else None,
        ),
    ]


def no_change_daily(simulator, scratch: Path, invoices: int) -> list[Figure]:
    """(b): full sync with the model off, then the same run again with the model on."""
    with start_wave_sandbox(**books(2, invoices)) as wave:
        settings = target_settings(simulator, scratch / "daily.config.json")
        state, _ = timed_run(wave, scratch / "daily-full", settings)
        marks = updated_marks(simulator, settings["catalog"], settings["schema"])
        since = last_seq(simulator)
        with measured(simulator):
            _, wall = timed_run(wave, scratch / "daily-again", settings, state)
        statements = statements_since(simulator, since)
        moved = rows_moved_since(simulator, settings["catalog"], settings["schema"], marks)
    label, name = "daily run, nothing changed", "databricks no-change day"
    figures = run_figures(name, label, statements, wall)
    rewritten = sum(moved.values())
    print(
        f"{label}: rows whose _updated_at moved: {rewritten} "
        f"({', '.join(f'{t} {n}' for t, n in sorted(moved.items())) or 'none'}); "
        f"rows the MERGEs reported updating: {statements.rows_updated()}"
    )
    figures[0] = Figure(
        name,
        "statements",
        statements.count,
        "stmts",
        f"goal {STATEMENTS_GOAL} statements",
        statements.count / STATEMENTS_GOAL,
        "<=1",
    )
    figures.insert(
        1, Figure(name, "statements on the critical path", statements.critical_path, "stmts")
    )
    figures.append(
        Figure(
            name,
            "data rows rewritten (_updated_at)",
            rewritten,
            "rows",
            f"{statements.rows_updated()} reported by MERGEs",
            None,
            "=0",
        )
    )
    return figures


def ten_businesses(simulator, scratch: Path, invoices: int) -> list[Figure]:
    """(c): a full sync of ten businesses into an empty schema, the model on."""
    with start_wave_sandbox(startup_timeout=120, **books(10, invoices)) as wave:
        settings = target_settings(simulator, scratch / "ten.config.json")
        since = last_seq(simulator)
        with measured(simulator):
            _, wall = timed_run(wave, scratch / "ten-full", settings)
        statements = statements_since(simulator, since)
    label, name = f"full sync, 10 businesses x {invoices} invoices", "databricks 10-biz sync"
    figures = run_figures(name, label, statements, wall)
    figures.insert(1, Figure(name, "statements per business", statements.count / 10, "stmts"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=50, help="invoices per business")
    add_arguments(parser)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-dbx-runs-") as tmp,
        latency_simulator() as simulator,
    ):
        figures = no_change_daily(simulator, Path(tmp), args.invoices)
        figures += ten_businesses(simulator, Path(tmp), args.invoices)
    emit(figures, args.figures_json)


if __name__ == "__main__":
    main()
