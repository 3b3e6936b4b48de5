"""Peak memory of target-databricks-upsert on a long input: it must be bounded by the batch size.

Goal (issue 4): <= 250 MB peak RSS on 1,000,000 invoice records. The real CLI runs as a subprocess
writing to a DuckDB file; the Singer lines are generated on the fly into its stdin (the input is
never held in memory), while a sampler records the child's RSS. Prints the peak and its ratio to
the goal for the 1,000,000 new records, then for a re-sync of the same records into the same file
(every invoice and its items changed: MERGEs, not appends), for a re-read of those same records
(nothing changed: nothing written), and the growth from a tenth of the records to show
it does not grow with the input.

    .venv/bin/python -m bench.target_memory [--records 1000000] [--batch-size 10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil
from target_databricks_upsert.testing import CLI

from bench.report import Figure, add_arguments, emit
from testkit.bench_invoices import bench_invoice_lines

GOAL_MB = 250


def peak_rss_mb(
    records: int, batch_size: int, workdir: Path, revision: int = 0
) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one CLI run over `records` generated invoices, into the file
    of earlier runs with as many records (a second run is a re-sync: every record an update)."""
    config = workdir / f"config-{records}.json"
    config.write_text(
        json.dumps(
            {"duckdb_path": str(workdir / f"w-{records}.duckdb"), "batch_size_rows": batch_size}
        )
    )
    start = time.perf_counter()
    process = subprocess.Popen(
        [CLI, "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        watched = psutil.Process(process.pid)
        while not done.is_set():
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for line in bench_invoice_lines(records, revision=revision):
        process.stdin.write(line)
    process.stdin.close()
    code = process.wait()
    done.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"target exited with {code}")
    return peak / 2**20, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-target-memory-") as tmp:
        small, _ = peak_rss_mb(args.records // 10, args.batch_size, Path(tmp))
        large, _ = peak_rss_mb(args.records, args.batch_size, Path(tmp))
        resync, _ = peak_rss_mb(args.records, args.batch_size, Path(tmp), revision=1)
        reread, _ = peak_rss_mb(args.records, args.batch_size, Path(tmp), revision=1)
    emit(
        [
            Figure(
                "target peak memory",
                f"{args.records:,} records, batch {args.batch_size:,}",
                large,
                "MB",
                f"goal {GOAL_MB} MB",
                large / GOAL_MB,
                "<=1",
            ),
            Figure(
                "target peak memory",
                f"re-sync of the {args.records:,} (all updates)",
                resync,
                "MB",
                f"goal {GOAL_MB} MB",
                resync / GOAL_MB,
                "<=1",
            ),
            Figure(
                "target peak memory",
                f"re-read of the {args.records:,} (nothing changed)",
                reread,
                "MB",
                f"goal {GOAL_MB} MB",
                reread / GOAL_MB,
                "<=1",
            ),
            Figure(
                "target peak memory",
                f"growth for 10x input ({args.records // 10:,} -> {args.records:,})",
                large / small,
                "x",
                f"{small:.0f} MB at 1/10",
                large / small,
                "<=1.2",
            ),
        ],
        args.figures_json,
    )


if __name__ == "__main__":
    main()
