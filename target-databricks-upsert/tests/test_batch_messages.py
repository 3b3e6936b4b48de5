"""BATCH messages: the singer-sdk's batch files (JSON Lines or Parquet, gzip or not) load through
the same validate -> flatten -> MERGE path as RECORD messages, with the same guarantees: STATE
only after the rows are committed, a rerun writes the same rows, newer wins. Before, the target
accepted BATCH messages, wrote nothing and moved STATE on."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest
from singer_sdk.helpers._batch import BaseBatchFileEncoding
from target_databricks_upsert.target import TargetDatabricksUpsert
from target_databricks_upsert.testing import (
    CLI,
    INVOICE_SCHEMA,
    batch_message,
    cli_error,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
    stable,
    state_message,
    states,
    write_batch_file,
)

SCHEMA = schema_message("invoices", INVOICE_SCHEMA)
TABLES = ("invoices", "invoice_items", "invoice_item_taxes")
# (format, how write_batch_file compresses, the message's compression): the SDK's JSON Lines
# writer gzips whatever the message says.
ENCODINGS = [
    ("jsonl", False, "none"),
    ("jsonl", True, "none"),
    ("parquet", False, "none"),
    ("parquet", True, "gzip"),
    ("parquet", "wrapped", "gzip"),
]


def _records(n: int) -> list[dict]:
    """Invoices with lines and taxes, every property present (the SDK's Parquet writer keeps
    only the properties of a file's first record); from the second file on, an update of the
    previous file's first invoice; in a JSON Lines and a Parquet file, a deletion."""
    items = [
        {
            "description": f"line {k}",
            "quantity": f"{k}.5",
            "taxes": [{"sales_tax_id": "GST", "amount": "0.05"}] if k % 2 else None,
        }
        for k in range(1, 3)
    ]
    out = [
        invoice(f"B{n % 2}", f"I{n}{k}", total=f"{n}{k}.25", items=items, _sdc_deleted_at=None)
        for k in range(3)
    ]
    if n:
        out.append(
            invoice(
                f"B{(n - 1) % 2}",
                f"I{n - 1}0",
                total="99.99",
                items=items[:1],
                _sdc_deleted_at=None,
            )
        )
    if n in (1, 3):
        out.insert(
            0, invoice(f"B{(n - 1) % 2}", f"I{n - 1}1", _sdc_deleted_at="2024-05-02T00:00:00Z")
        )
    return out


def test_batch_files_of_every_encoding_load_exactly_as_records_do(warehouse_factory, tmp_path):
    batched, reference = warehouse_factory("batched"), warehouse_factory("reference")
    with_batches, with_records = [SCHEMA], [SCHEMA]
    for n, (fmt, gzipped, compression) in enumerate(ENCODINGS):
        modified = f"2024-05-01T10:00:0{n}+00:00"
        records = _records(n)
        path = write_batch_file(tmp_path / f"part{n}.{fmt}", records, fmt, gzipped, modified)
        with_batches += [
            batch_message("invoices", [path], fmt, compression),
            state_message({"n": n}),
        ]
        with_records += [record_message("invoices", r, modified) for r in records]
        with_records.append(state_message({"n": n}))

    result = run_cli(batched, with_batches)
    assert states(result)[-1] == {"n": len(ENCODINGS) - 1}
    run_cli(reference, with_records)
    loaded = {table: stable(rows(batched, table)) for table in TABLES}
    for table in TABLES:
        assert loaded[table] == stable(rows(reference, table)), table
    by_id = {r["id"]: r for r in loaded["invoices"]}
    assert len(loaded["invoices"]) == len(by_id) == 3 * len(ENCODINGS)
    assert by_id["I00"]["total"] == Decimal("99.99")  # updated by the next file
    assert by_id["I01"]["_is_deleted"] and by_id["I21"]["_is_deleted"]
    assert not by_id["I02"]["_is_deleted"]

    run_cli(batched, with_batches)  # a rerun of the same input changes nothing
    for table in TABLES:
        assert stable(rows(batched, table)) == loaded[table], table


def test_state_is_only_emitted_once_the_batch_files_rows_are_committed(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first = write_batch_file(tmp_path / "a.jsonl", [invoice("B1", f"I{n}") for n in range(5)])
    bad = write_batch_file(tmp_path / "b.jsonl", [invoice("B1", "I9", total="12,50")])
    result = run_cli(
        warehouse,
        [
            SCHEMA,
            batch_message("invoices", [first]),
            state_message({"n": 1}),
            batch_message("invoices", [bad]),
            state_message({"n": 2}),
        ],
        {"batch_size_rows": 3},
        check=False,
    )
    assert cli_error(result).startswith("invoices record (B1, I9): field total: '12,50'")
    assert result.stdout.strip() == "", "STATE 1 is held until a drain of every sink commits"
    # The first full batch (I0-I2) was committed; I3, I4 and I9 made the failed one.
    assert [r["id"] for r in rows(warehouse, "invoices")] == ["I0", "I1", "I2"]


def test_an_older_batch_file_never_overwrites_a_newer_record(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    old = write_batch_file(
        tmp_path / "old.jsonl.gz",
        [invoice("B1", "I1", total="1")],
        "jsonl",
        True,
        modified="2024-05-01T00:00:00+00:00",
    )
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1", total="2"), "2024-06-01T00:00:00Z"),
        ],
    )
    run_cli(warehouse, [SCHEMA, batch_message("invoices", [old], "jsonl", "gzip")])
    assert [r["total"] for r in rows(warehouse, "invoices")] == [Decimal("2")]
    new = write_batch_file(
        tmp_path / "new.parquet",
        [invoice("B1", "I1", total="3", _sdc_deleted_at=None)],
        "parquet",
        modified="2024-07-01T00:00:00+00:00",
    )
    run_cli(warehouse, [SCHEMA, batch_message("invoices", [new], "parquet")])
    assert [r["total"] for r in rows(warehouse, "invoices")] == [Decimal("3")]


def test_stream_maps_apply_to_batch_records(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    path = write_batch_file(tmp_path / "a.jsonl", [invoice("B1", "I1"), invoice("B1", "I2")])
    run_cli(
        warehouse,
        [SCHEMA, batch_message("invoices", [path])],
        {"stream_maps": {"invoices": {"__alias__": "bills"}}},
    )
    assert [r["id"] for r in rows(warehouse, "bills")] == ["I1", "I2"]
    assert len(rows(warehouse, "bill_items")) == 2


def _bad_files(tmp_path):
    good = json.dumps(invoice("B1", "I1"))
    status_bytes = json.dumps(invoice("B1", "I2")).encode().replace(b'"SENT"', b'"S\xffENT"')
    files = {
        "not_json": ("jsonl", good + "\n{not json\n"),
        "not_object": ("jsonl", good + "\n[1, 2]\n"),
        "not_utf8": ("jsonl", good.encode() + b"\n" + status_bytes + b"\n"),
        "not_parquet": ("parquet", good + "\n"),
    }
    # As the SDK writes it: the columns of the first record only, so the deletion is lost.
    write_batch_file(
        tmp_path / "lossy.parquet",
        [invoice("B1", "I1"), invoice("B1", "I2", _sdc_deleted_at="2024-05-02T00:00:00Z")],
        "parquet",
        gzipped=True,
    )
    out = {"lossy": (tmp_path / "lossy.parquet", "parquet")}
    for name, (fmt, content) in files.items():
        path = tmp_path / f"{name}.{fmt}"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        out[name] = (path, fmt)
    return out


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("not_json", "invoices: line 2 of BATCH file {url} is not valid JSON ("),
        (
            "not_object",
            "invoices: line 2 of BATCH file {url}: the record is a JSON array, not an object",
        ),
        (
            "not_utf8",
            "invoices: line 2 of BATCH file {url} is not valid UTF-8 (byte 0xff at offset ",
        ),
        ("not_parquet", "invoices: line 2 of the input: cannot read BATCH file {url} as parquet ("),
        ("missing", "invoices: line 2 of the input: cannot read BATCH file {url} as jsonl ("),
        ("avro", "invoices: line 2 of the input: the BATCH message has encoding format 'avro'"),
        (
            "lossy",
            "invoices: BATCH file {url} has no column for the stream's properties "
            "_sdc_deleted_at. The singer-sdk's Parquet batch writer keeps only",
        ),
    ],
)
def test_a_bad_batch_file_is_one_clear_error_and_writes_nothing(tmp_path, case, expected):
    warehouse = tmp_path / "w.duckdb"
    run_cli(warehouse, [SCHEMA, record_message("invoices", invoice("B1", "I0"))])
    if case == "missing":
        message = batch_message("invoices", [tmp_path / "gone.jsonl"])
    elif case == "avro":
        message = batch_message("invoices", [tmp_path / "x.avro"], "avro")
    else:
        path, fmt = _bad_files(tmp_path)[case]
        message = batch_message("invoices", [path], fmt)
    result = run_cli(warehouse, [SCHEMA, message, state_message({"n": 1})], check=False)
    line = cli_error(result)
    assert line.startswith(expected.format(url=message["manifest"][0])), line
    if case == "not_utf8":
        assert "field status" in line
    assert result.stdout.strip() == ""
    assert [r["id"] for r in rows(warehouse, "invoices")] == ["I0"]


def test_the_batch_capability_and_setting_are_declared():
    about = json.loads(
        subprocess.run(
            [CLI, "--about", "--format=json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert "batch" in about["capabilities"]
    assert "batch_config" in about["settings"]["properties"]


def test_the_sdks_own_batch_file_hook_loads_the_records_it_hands_over(tmp_path):
    """`Sink.process_batch_files` (the SDK's reader) calls `process_batch` with the records in
    the context, which the sink used to ignore."""
    warehouse = tmp_path / "w.duckdb"
    path = write_batch_file(
        tmp_path / "a.jsonl.gz", [invoice("B1", "I1"), invoice("B1", "I2")], gzipped=True
    )
    target = TargetDatabricksUpsert(config={"duckdb_path": str(warehouse)}, validate_config=True)
    try:
        target._process_schema_message(SCHEMA)
        target.get_sink("invoices").process_batch_files(
            BaseBatchFileEncoding(format="jsonl", compression="gzip"), [path.as_uri()]
        )
    finally:
        target._close_warehouse()
    assert [r["id"] for r in rows(warehouse, "invoices")] == ["I1", "I2"]
