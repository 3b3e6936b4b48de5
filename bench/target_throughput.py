"""How fast target-databricks-upsert turns Singer messages into rows MERGEd into DuckDB.

Goal (issue 4): at least 50 % of the rate of a raw DuckDB insert of the same rows from Arrow,
on >= 100,000 invoice records with items, taxes and payments. Printed side by side, from one run:

- raw:   the same final rows (read back from our load, audit columns dropped) inserted into empty
         DuckDB tables from Arrow, in as many transactions as our load had batches;
- ours:  `TargetDatabricksUpsert.listen()` on the Singer file (validate, flatten, dedupe, MERGE,
         audit), in-process so interpreter start-up is not counted;
- naive: a do-nothing singer-sdk Target (per-record jsonschema validation, no writes);
- dlt:   dlt's merge into DuckDB, when dlt is installed (it is not a dependency of the target).

    .venv/bin/python -m bench.target_throughput [--records 100000] [--batch-size 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
from singer_sdk import Target
from singer_sdk.sinks import BatchSink
from target_databricks_upsert.target import TargetDatabricksUpsert
from target_databricks_upsert.testing import bench_invoice_lines

TABLES = ("invoices", "invoice_items", "invoice_item_taxes", "invoice_payments")
AUDIT = "_loaded_at, _updated_at, _load_id, _extracted_at, _sequence, _is_deleted, _deleted_at, _table_version"
GOAL = 0.50


class _NoOpSink(BatchSink):
    def process_batch(self, context: dict) -> None:
        """Write nothing."""


class NaiveTarget(Target):
    """The cheapest singer-sdk target there is: default record path, no writes."""

    name = "target-naive"
    config_jsonschema = {"type": "object", "properties": {}}
    default_sink_class = _NoOpSink


def timed_listen(target: Target, input_path: Path) -> float:
    with input_path.open() as messages, contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        target.listen(file_input=messages)
        return time.perf_counter() - start


def raw_insert_seconds(loaded: Path, scratch: Path, batches: int,
                       from_python: bool = False) -> tuple[float, int]:
    """Insert our final rows from Arrow into empty tables; return (seconds, rows). With
    `from_python`, building each Arrow chunk from Python row dicts is timed too."""
    with duckdb.connect(str(loaded), read_only=True) as source:
        arrow = {t: source.sql(f"SELECT * EXCLUDE ({AUDIT}) FROM wave.{t}").to_arrow_table() for t in TABLES}
    total = sum(t.num_rows for t in arrow.values())
    python_rows = {t: rows.to_pylist() for t, rows in arrow.items()} if from_python else {}
    with duckdb.connect(str(scratch)) as target:
        for name, rows in arrow.items():
            target.register(f"src_{name}", rows)
            target.execute(f"CREATE TABLE {name} AS SELECT * FROM src_{name} LIMIT 0")
        start = time.perf_counter()
        for batch in range(batches):
            target.begin()
            for name, rows in arrow.items():
                size = math.ceil(rows.num_rows / batches)
                chunk = rows.slice(batch * size, size)
                if from_python:
                    chunk = pa.Table.from_pylist(python_rows[name][batch * size:(batch + 1) * size],
                                                 schema=rows.schema)
                target.register("chunk", chunk)
                target.execute(f"INSERT INTO {name} SELECT * FROM chunk")
                target.unregister("chunk")
            target.commit()
        return time.perf_counter() - start, total


def dlt_merge(input_path: Path, workdir: Path) -> tuple[float, int] | None:
    try:
        import dlt
    except ImportError:
        return None

    def invoices():
        with input_path.open() as lines:
            for line in lines:
                message = json.loads(line)
                if message["type"] == "RECORD":
                    yield message["record"]

    resource = dlt.resource(invoices, name="invoices", primary_key=("business_id", "id"),
                            write_disposition="merge")
    pipeline = dlt.pipeline(pipeline_name="bench", pipelines_dir=str(workdir / "dlt"),
                            destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
                            dataset_name="wave")
    start = time.perf_counter()
    pipeline.run(resource)
    seconds = time.perf_counter() - start
    with duckdb.connect(str(workdir / "dlt.duckdb"), read_only=True) as connection:
        names = [r[0] for r in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'wave' "
            "AND table_name LIKE 'invoices%'").fetchall()]
        rows = sum(connection.execute(f"SELECT count(*) FROM wave.{n}").fetchone()[0] for n in names)
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="bench-target-") as tmp:
        workdir = Path(tmp)
        input_path = workdir / "invoices.singer"
        with input_path.open("w") as out:
            out.writelines(bench_invoice_lines(args.records))

        loaded = workdir / "ours.duckdb"
        ours = TargetDatabricksUpsert(config={"duckdb_path": str(loaded),
                                              "batch_size_rows": args.batch_size})
        ours_seconds = timed_listen(ours, input_path)
        batches = math.ceil(args.records / args.batch_size)
        raw_seconds, rows = raw_insert_seconds(loaded, workdir / "raw.duckdb", batches)
        pyraw_seconds, _ = raw_insert_seconds(loaded, workdir / "pyraw.duckdb", batches, True)
        naive_seconds = timed_listen(NaiveTarget(config={}), input_path)
        dlt_result = dlt_merge(input_path, workdir)

    raw_rate, ours_rate = rows / raw_seconds, rows / ours_seconds
    print(f"{args.records:,} invoice records -> {rows:,} rows in {', '.join(TABLES)}")
    print(f"  raw DuckDB insert from Arrow     {raw_rate:>12,.0f} rows/s")
    pyraw_rate = rows / pyraw_seconds
    print(f"  same, Arrow built from Python rows {pyraw_rate:>10,.0f} rows/s "
          f"(ours = {ours_rate / pyraw_rate:.0%} of this)")
    print(f"  target-databricks-upsert (MERGE) {ours_rate:>12,.0f} rows/s "
          f"({args.records / ours_seconds:,.0f} records/s) = {ours_rate / raw_rate:.0%} of raw "
          f"(goal >= {GOAL:.0%}: {'met' if ours_rate / raw_rate >= GOAL else 'NOT met'})")
    print(f"  naive singer-sdk target (no-op)  {args.records / naive_seconds:>12,.0f} records/s "
          f"(ours is {naive_seconds / ours_seconds:.1f}x its speed)")
    if dlt_result is None:
        print("  dlt merge into DuckDB            not installed (pip install 'dlt[duckdb]' to compare)")
    else:
        dlt_seconds, dlt_rows = dlt_result
        print(f"  dlt merge into DuckDB            {dlt_rows / dlt_seconds:>12,.0f} rows/s "
              f"(ours is {ours_rate / (dlt_rows / dlt_seconds):.1f}x)")


if __name__ == "__main__":
    main()
