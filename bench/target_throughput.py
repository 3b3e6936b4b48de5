"""How fast target-databricks-upsert turns Singer messages into rows MERGEd into DuckDB.

Goal (issue 4): at least 50 % of the rate of a raw loader of the same rows, on >= 100,000 invoice
records with items, taxes and payments. Printed side by side, from one run:

- ours:        `TargetDatabricksUpsert.listen()` on the Singer file (validate, flatten, dedupe,
               MERGE, audit), in-process so interpreter start-up is not counted;
- raw loader:  the least any loader must do with the same file: read it, JSON-decode each line
               (stdlib json or msgspec, whichever decodes this file faster), flatten each record
               into the same tables and columns, build Arrow tables with pyarrow and INSERT them
               into empty DuckDB tables of the same types, in as many transactions as our load had
               batches. No validation, no dedupe, no MERGE, no audit. The goal is measured
               against this;
- insert only: just the DuckDB INSERT of our final rows (read back, audit columns dropped) from
               ready-made Arrow tables, same transactions (informational: no loader can skip
               reading the messages);
- naive:       a do-nothing singer-sdk Target (per-record jsonschema validation, no writes);
- dlt:         dlt's merge into DuckDB, when installed (`pip install -e '.[bench]'`); on
               `--dlt-records` records, as it is much slower.

    .venv/bin/python -m bench.target_throughput [--records 100000] [--batch-size 10000]
        [--dlt-records 10000]
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

from bench.report import Figure, add_arguments, emit
from testkit.bench_invoices import bench_invoice_lines

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


def table_columns(loaded: Path) -> dict[str, list[str]]:
    """Our tables' columns without the audit columns: what a raw loader writes too."""
    with duckdb.connect(str(loaded), read_only=True) as source:
        return {
            t: [
                d[0]
                for d in source.execute(
                    f"SELECT * EXCLUDE ({AUDIT}) FROM wave.{t} LIMIT 0"
                ).description
            ]
            for t in TABLES
        }


def empty_tables(loaded: Path, target: duckdb.DuckDBPyConnection) -> None:
    """Tables with our tables' columns and types (audit columns dropped), empty."""
    with duckdb.connect(str(loaded), read_only=True) as source:
        for name in TABLES:
            target.register(
                "shape",
                source.sql(f"SELECT * EXCLUDE ({AUDIT}) FROM wave.{name} LIMIT 0").to_arrow_table(),
            )
            target.execute(f"CREATE TABLE {name} AS SELECT * FROM shape")
            target.unregister("shape")


def fastest_decoder(input_path: Path):
    """(name, decode) of stdlib json and msgspec, whichever decodes this file faster."""
    import msgspec

    timings = {}
    for name, decode in (("json", json.loads), ("msgspec", msgspec.json.Decoder().decode)):
        with input_path.open("rb") as lines:
            start = time.perf_counter()
            for line in lines:
                decode(line)
            timings[name] = (time.perf_counter() - start, decode)
    name = min(timings, key=lambda n: timings[n][0])
    return name, timings[name][1]


def raw_loader_seconds(
    input_path: Path, loaded: Path, scratch: Path, batch_size: int, decode
) -> tuple[float, int]:
    """The raw loader (see module doc); return (seconds, rows written)."""
    columns = table_columns(loaded)
    invoice_columns = columns["invoices"]
    item_columns, tax_columns, payment_columns = (
        columns["invoice_items"][3:],
        columns["invoice_item_taxes"][4:],
        columns["invoice_payments"][3:],
    )
    pa.Table.from_pylist([{"warm": 1}])  # pyarrow's one-time lazy imports are not counted
    written = 0
    with duckdb.connect(str(scratch)) as target:
        empty_tables(loaded, target)

        def insert(batch: dict[str, dict[str, list]]) -> None:
            nonlocal written
            target.begin()
            for name, table_columns_ in batch.items():
                chunk = pa.table(table_columns_)
                written += chunk.num_rows
                target.register("chunk", chunk)
                target.execute(f"INSERT INTO {name} SELECT * FROM chunk")
                target.unregister("chunk")
            target.commit()

        def new_batch() -> dict[str, dict[str, list]]:
            return {t: {c: [] for c in columns[t]} for t in TABLES}

        start = time.perf_counter()
        batch, count = new_batch(), 0
        with input_path.open("rb") as lines:
            for line in lines:
                message = decode(line)
                if message["type"] != "RECORD":
                    continue
                record = message["record"]
                business, invoice = record["business_id"], record["id"]
                invoices, items = batch["invoices"], batch["invoice_items"]
                taxes, payments = batch["invoice_item_taxes"], batch["invoice_payments"]
                for column in invoice_columns:
                    invoices[column].append(record.get(column))
                for line_number, item in enumerate(record.get("items") or (), 1):
                    items["business_id"].append(business)
                    items["invoice_id"].append(invoice)
                    items["line_number"].append(line_number)
                    for column in item_columns:
                        items[column].append(item.get(column))
                    for tax_line, tax in enumerate(item.get("taxes") or (), 1):
                        taxes["business_id"].append(business)
                        taxes["invoice_id"].append(invoice)
                        taxes["invoice_item_line_number"].append(line_number)
                        taxes["line_number"].append(tax_line)
                        for column in tax_columns:
                            taxes[column].append(tax.get(column))
                for line_number, payment in enumerate(record.get("payments") or (), 1):
                    payments["business_id"].append(business)
                    payments["invoice_id"].append(invoice)
                    payments["line_number"].append(line_number)
                    for column in payment_columns:
                        payments[column].append(payment.get(column))
                count += 1
                if count == batch_size:
                    insert(batch)
                    batch, count = new_batch(), 0
        if count:
            insert(batch)
        return time.perf_counter() - start, written


def insert_only_seconds(loaded: Path, scratch: Path, batches: int) -> tuple[float, int]:
    """Insert our final rows from ready-made Arrow tables into empty tables; (seconds, rows)."""
    with duckdb.connect(str(loaded), read_only=True) as source:
        arrow = {
            t: source.sql(f"SELECT * EXCLUDE ({AUDIT}) FROM wave.{t}").to_arrow_table()
            for t in TABLES
        }
    total = sum(t.num_rows for t in arrow.values())
    with duckdb.connect(str(scratch)) as target:
        empty_tables(loaded, target)
        start = time.perf_counter()
        for batch in range(batches):
            target.begin()
            for name, rows in arrow.items():
                size = math.ceil(rows.num_rows / batches)
                target.register("chunk", rows.slice(batch * size, size))
                target.execute(f"INSERT INTO {name} SELECT * FROM chunk")
                target.unregister("chunk")
            target.commit()
        return time.perf_counter() - start, total


def dlt_merge(input_path: Path, workdir: Path, records: int) -> tuple[float, int] | None:
    """dlt's merge of the first `records` invoices into DuckDB; (seconds, rows) or None."""
    try:
        import dlt
    except ImportError:
        return None

    def invoices():
        sent = 0
        with input_path.open() as lines:
            for line in lines:
                message = json.loads(line)
                if message["type"] == "RECORD" and sent < records:
                    sent += 1
                    yield message["record"]

    resource = dlt.resource(
        invoices, name="invoices", primary_key=("business_id", "id"), write_disposition="merge"
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=str(workdir / "dlt"),
        destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
        dataset_name="wave",
    )
    start = time.perf_counter()
    pipeline.run(resource)
    seconds = time.perf_counter() - start
    with duckdb.connect(str(workdir / "dlt.duckdb"), read_only=True) as connection:
        names = [
            r[0]
            for r in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'wave' "
                "AND table_name LIKE 'invoices%'"
            ).fetchall()
        ]
        rows = sum(
            connection.execute(f"SELECT count(*) FROM wave.{n}").fetchone()[0] for n in names
        )
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--dlt-records", type=int, default=10_000)
    add_arguments(parser)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="bench-target-") as tmp:
        workdir = Path(tmp)
        input_path = workdir / "invoices.singer"
        with input_path.open("w") as out:
            out.writelines(bench_invoice_lines(args.records))

        loaded = workdir / "ours.duckdb"
        ours = TargetDatabricksUpsert(
            config={"duckdb_path": str(loaded), "batch_size_rows": args.batch_size}
        )
        ours_seconds = timed_listen(ours, input_path)
        batches = math.ceil(args.records / args.batch_size)
        decoder_name, decode = fastest_decoder(input_path)
        raw_seconds, rows = raw_loader_seconds(
            input_path, loaded, workdir / "raw.duckdb", args.batch_size, decode
        )
        insert_seconds, ours_rows = insert_only_seconds(loaded, workdir / "insert.duckdb", batches)
        if ours_rows != rows:
            raise SystemExit(f"row counts differ: ours {ours_rows:,}, raw loader {rows:,}")
        naive_seconds = timed_listen(NaiveTarget(config={}), input_path)
        dlt_result = dlt_merge(input_path, workdir, min(args.dlt_records, args.records))

    raw_rate, ours_rate, insert_rate = (
        rows / raw_seconds,
        rows / ours_seconds,
        rows / insert_seconds,
    )
    ratio = ours_rate / raw_rate
    name = "target throughput"
    figures = [
        Figure(
            name,
            f"ours, {args.records:,} inv. -> {rows:,} rows",
            ours_rate,
            "rows/s",
            f"raw loader ({decoder_name}+Arrow+INSERT)",
            ratio,
            f">={GOAL}",
        ),
        Figure(name, "raw loader (reference)", raw_rate, "rows/s"),
        Figure(
            name,
            "ours vs insert-only Arrow->DuckDB",
            ours_rate,
            "rows/s",
            f"insert only {insert_rate:,.0f} rows/s",
            ours_rate / insert_rate,
        ),
        Figure(
            name,
            "ours vs naive singer-sdk target",
            args.records / ours_seconds,
            "records/s",
            f"naive {args.records / naive_seconds:,.0f} records/s",
            naive_seconds / ours_seconds,
        ),
    ]
    if dlt_result is not None:
        dlt_seconds, dlt_rows = dlt_result
        figures.append(
            Figure(
                name,
                "ours vs dlt merge into DuckDB",
                ours_rate,
                "rows/s",
                f"dlt {dlt_rows / dlt_seconds:,.0f} rows/s",
                ours_rate / (dlt_rows / dlt_seconds),
            )
        )
    else:
        print("dlt merge into DuckDB: not installed (pip install -e '.[bench]')")
    emit(figures, args.figures_json)


if __name__ == "__main__":
    main()
