"""Statements per batch on Databricks: they must not grow with the batch size.

The real target CLI loads generated invoices (4 tables: invoices, items, item taxes, payments)
into the Databricks SQL warehouse simulator through the real connector, once per batch size, and
the simulator's statement log (GET /sandbox/statements) is counted: the writing statements
(MERGE/INSERT/UPDATE/DELETE) and the staging ones (PUT/REMOVE) per batch, set-up excluded. Small
batches go inline (VALUES), larger ones through a volume; within each path the count is the same
whatever the size, so the large-to-small ratio is 1.

    .venv/bin/python -m bench.databricks_statements [--small 200] [--large 5000] [--batches 2]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

from databricks_sandbox.testing import start_databricks_sandbox
from target_databricks_upsert.testing import (
    last_statement,
    run_cli,
    simulator_destination,
)

from bench.report import Figure, add_arguments, emit
from testkit.bench_invoices import bench_invoice_lines

PER_BATCH = ("MERGE", "INSERT", "UPDATE", "DELETE", "PUT", "REMOVE")


def statements_per_batch(sandbox, workdir: Path, rows: int, batches: int) -> Counter:
    """Statements of each kind per batch, for batches of `rows` invoices."""
    warehouse = simulator_destination(sandbox, workdir / f"{rows}.config.json")
    since = last_statement(sandbox)
    run_cli(
        warehouse,
        "".join(bench_invoice_lines(rows * batches, businesses=5)),
        {"batch_size_rows": rows},
        timeout=900,
    )
    kinds = Counter(s["kind"] for s in sandbox.statements(since) if s["kind"] in PER_BATCH)
    return Counter({k: n // batches for k, n in kinds.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inline", type=int, default=20, help="invoices per inline batch")
    parser.add_argument("--small", type=int, default=200, help="invoices per small staged batch")
    parser.add_argument("--large", type=int, default=5000, help="invoices per large staged batch")
    parser.add_argument("--batches", type=int, default=2)
    add_arguments(parser)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-dbx-") as scratch,
        start_databricks_sandbox() as sandbox,
    ):
        measured = {
            rows: statements_per_batch(sandbox, Path(scratch), rows, args.batches)
            for rows in (args.inline, args.small, args.large)
        }
    name = "databricks statements"
    figures = []
    for rows, kinds in measured.items():
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print(f"{rows:>6} invoices/batch: {sum(kinds.values())} statements per batch ({detail})")
        figures.append(
            Figure(name, f"per batch of {rows:,} invoices", sum(kinds.values()), "statements")
        )
    small, large = (sum(measured[r].values()) for r in (args.small, args.large))
    figures.append(
        Figure(
            name,
            f"{args.large:,} vs {args.small:,} invoices/batch",
            large,
            "statements",
            f"{small} statements ({args.small:,}/batch)",
            large / small,
            "<= 1",
        )
    )
    emit(figures, args.figures_json)


if __name__ == "__main__":
    main()
