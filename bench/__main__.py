"""`make bench`: run every benchmark of the project and print one table of side-by-side ratios.

Each benchmark runs in its own process (so one's memory or threads never colour another's), writes
its figures as JSON, and the table below gathers them. A benchmark that fails is reported with its
error and the others still run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Figure, format_table, load

BENCHMARKS = [
    ("bench.sandbox_page", []),
    ("bench.tap_requests", []),
    ("bench.target_throughput", []),
    ("bench.target_memory", []),
    ("bench.databricks_statements", []),
    ("bench.webhook_latency", ["--samples", "8"]),
    ("bench.ten_businesses", []),
    ("bench.databricks_runs", []),
    ("bench.databricks_webhooks", ["--samples", "4"]),
]


def main() -> None:
    figures: list[Figure] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for module, args in BENCHMARKS:
            out = Path(scratch) / f"{module}.json"
            print(f"== {module} ...", flush=True)
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", module, *args, "--figures-json", str(out)],
                capture_output=True,
                text=True,
                check=False,
            )
            took = time.monotonic() - started
            if done.returncode != 0 or not out.exists():
                failures.append(f"{module}: exit {done.returncode}\n{done.stderr[-1500:]}")
                print(f"   failed after {took:.0f} s", flush=True)
                continue
            figures += load(out)
            print(f"   done in {took:.0f} s", flush=True)
    print()
    print(format_table(figures))
    for failure in failures:
        print(f"\nFAILED {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
