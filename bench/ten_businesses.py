"""The accounting firm's first day: ten Wave businesses loaded from empty, end to end.

10 businesses x 5,000 invoices (1-5 lines each, 3 on average, with taxes and payments) plus their
customers, products, estimates and the rest, through `tap-wave | target-databricks-upsert` into an
empty DuckDB warehouse. Goal: under 2 minutes on this machine. Also checks the warehouse equals
the sandbox's books, so a fast wrong load cannot pass.

    .venv/bin/python -m bench.ten_businesses [--invoices 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from wave_sandbox.testing import start_wave_sandbox

from bench.report import Figure, add_arguments, emit
from testkit.pipeline import run_tap_to_target, sandbox_invoices, warehouse_invoices, warehouse_rows

GOAL_SECONDS = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=5000, help="invoices per business")
    add_arguments(parser)
    args = parser.parse_args()
    books = {
        "businesses": 10,
        "seed": 10,
        "customers": 300,
        "vendors": 40,
        "products": 60,
        "invoices": args.invoices,
        "estimates": 300,
    }
    with (
        tempfile.TemporaryDirectory() as scratch,
        start_wave_sandbox(startup_timeout=300, **books) as sandbox,
    ):
        warehouse = Path(scratch) / "warehouse.duckdb"
        started = time.monotonic()
        run_tap_to_target(sandbox, Path(scratch) / "run", warehouse)
        seconds = time.monotonic() - started
        if warehouse_invoices(warehouse) != sandbox_invoices(sandbox):
            raise SystemExit("the warehouse does not equal the sandbox's invoices")
        ((invoices, lines),) = warehouse_rows(
            warehouse,
            "SELECT (SELECT count(*) FROM wave.invoices), "
            "(SELECT count(*) FROM wave.invoice_items)",
        )
    emit(
        [
            Figure(
                "ten businesses from empty",
                f"{invoices:,} invoices, {lines:,} lines",
                seconds,
                "s",
                f"goal {GOAL_SECONDS:.0f} s",
                seconds / GOAL_SECONDS,
                "<=1",
            )
        ],
        args.figures_json,
    )


if __name__ == "__main__":
    main()
