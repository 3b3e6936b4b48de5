"""End-to-end failure modes: bad records, incompatible schemas, and a kill -9 mid-load."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

from target_databricks_upsert.testing import (
    CLI,
    INVOICE_SCHEMA,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
    stable,
    state_message,
    write_config,
)

SCHEMA = schema_message("invoices", INVOICE_SCHEMA)


def test_schema_violating_record_fails_the_run_writes_nothing_and_keeps_state(warehouse):
    result = run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1")),
            state_message({"bookmarks": {"invoices": "I1"}}),
            record_message("invoices", invoice("B1", "I2", total="12,50")),
            state_message({"bookmarks": {"invoices": "I2"}}),
        ],
        check=False,
    )
    assert result.returncode != 0
    assert (
        "invoices record (B1, I2): field total: '12,50' is not a valid decimal128(38, 6)"
        in result.stderr
    )
    assert result.stdout.strip() == "", "no STATE may be emitted"
    assert rows(warehouse, "invoices") == []


def test_wrong_json_type_names_the_record_and_field(warehouse):
    bad_item = [{"description": "x", "taxes": [{"sales_tax_id": 7}]}]
    result = run_cli(
        warehouse,
        [SCHEMA, record_message("invoices", invoice("B2", "I9", items=bad_item))],
        check=False,
    )
    assert result.returncode != 0
    assert "invoices record (B2, I9): field items: value" in result.stderr


def test_incompatible_type_change_is_a_clear_error(warehouse):
    run_cli(warehouse, [SCHEMA, record_message("invoices", invoice("B1", "I1"))])
    changed = {
        **INVOICE_SCHEMA,
        "properties": {**INVOICE_SCHEMA["properties"], "total": {"type": "integer"}},
    }
    result = run_cli(
        warehouse,
        [
            schema_message("invoices", changed),
            record_message("invoices", invoice("B1", "I2", total=5)),
        ],
        check=False,
    )
    assert result.returncode != 0
    assert "total is DECIMAL(38,6) but the schema now says BIGINT" in result.stderr
    assert [r["id"] for r in rows(warehouse, "invoices")] == ["I1"]


def _big_input(count: int) -> str:
    lines = [json.dumps(SCHEMA)]
    for n in range(count):
        items = [
            {
                "description": f"line {k}",
                "quantity": str(k),
                "taxes": [{"sales_tax_id": "GST", "amount": "0.05"}],
            }
            for k in range(1, 3)
        ]
        record = invoice(f"B{n % 3}", f"I{n:06d}", total=f"{n}.25", items=items)
        lines.append(
            json.dumps(record_message("invoices", record, f"2024-05-01T00:00:{n % 60:02d}Z"))
        )
        if n % 500 == 499:
            lines.append(json.dumps(state_message({"bookmarks": {"invoices": n}})))
    return "\n".join(lines) + "\n"


def _feed(process: subprocess.Popen, text: str) -> None:
    try:
        process.stdin.write(text)
        process.stdin.flush()
    except (BrokenPipeError, ValueError):
        pass  # killed while we were still writing


def test_kill_9_mid_load_then_rerun_loses_nothing_and_duplicates_nothing(warehouse_factory):
    clean = warehouse_factory("clean")
    # The Databricks simulator takes about a second per batch: 5 batches there, 20 on DuckDB.
    count = 20000 if isinstance(clean, Path) else 5000
    text = _big_input(count)
    config = {"batch_size_rows": 1000}
    run_cli(clean, text, config)

    killed = warehouse_factory("killed")
    process = subprocess.Popen(
        [CLI, "--config", str(write_config(killed, config))],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    feeder = threading.Thread(target=_feed, args=(process, text[: len(text) * 2 // 3]), daemon=True)
    feeder.start()  # stdin stays open: the target is killed while it still expects input
    deadline = time.monotonic() + 60
    seen = ""
    while seen.count("is full") < 3 and time.monotonic() < deadline:  # >= 2 batches committed
        seen += process.stderr.readline()
    process.kill()  # SIGKILL, mid-load: stdin still open, later batches unwritten
    process.wait()
    feeder.join(timeout=10)
    partial = len(rows(killed, "invoices"))
    assert 0 < partial < count

    run_cli(killed, text, config)
    for table in ("invoices", "invoice_items", "invoice_item_taxes"):
        assert stable(rows(killed, table)) == stable(rows(clean, table)), table
    assert len(rows(killed, "invoice_items")) == 2 * count


def test_duckdb_out_of_memory_names_the_setting_keeps_state_and_a_rerun_with_more_loses_nothing(
    tmp_path,
):
    """A re-sync whose every record is an update, in too small a DuckDB: one clear error, nothing
    of the failed batch committed and no STATE past it; the rerun with the default limit lands."""
    warehouse = tmp_path / "w.duckdb"
    config = {"batch_size_rows": 2000}
    run_cli(warehouse, _big_input(4000), config)
    updated = _big_input(4000).replace('.25"', '.75"')
    result = run_cli(warehouse, updated, {**config, "duckdb_memory_limit": "2MB"}, check=False)
    assert result.returncode != 0
    assert "DuckDB ran out of memory within duckdb_memory_limit=2MB" in result.stderr
    assert "raise duckdb_memory_limit" in result.stderr
    assert result.stdout.strip() == "", "no STATE may be emitted past the failed batch"
    assert {r["total"] for r in rows(warehouse, "invoices", where="id = 'I000001'")} == {
        Decimal("1.25")
    }

    states = run_cli(warehouse, updated, config).stdout.strip().splitlines()
    assert json.loads(states[-1])["bookmarks"]["invoices"] == 3999
    totals = [r["total"] for r in rows(warehouse, "invoices")]
    assert len(totals) == 4000 and all(str(t).endswith(".750000") for t in totals)
