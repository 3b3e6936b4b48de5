"""How batches reach Databricks (the simulator, through the real connector): a constant number of
statements per table and batch, small batches inline, large ones staged as Parquet in a volume and
removed, Delta tables laid out per the contract."""

from __future__ import annotations

from collections import Counter

import pytest
from target_databricks_upsert.testing import (
    last_statement,
    lines_of,
    record_message,
    rows,
    run_in_process,
    schema_message,
    stable,
)

from testkit.bench_invoices import bench_invoice_lines

WRITES = ("MERGE", "INSERT", "UPDATE", "DELETE", "PUT", "REMOVE")
TABLES = ("invoices", "invoice_items", "invoice_item_taxes", "invoice_payments")

THINGS = {
    "properties": {
        "business_id": {"type": "string"},
        "id": {"type": "integer"},
        "price": {"type": ["number", "null"]},
        "day": {"type": ["string", "null"], "format": "date"},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "paid": {"type": ["boolean", "null"]},
        "note": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    }
}


def things(count: int) -> list[dict]:
    """Records of every column type, with microsecond timestamps in several offsets."""
    return [schema_message("things", THINGS)] + [
        record_message(
            "things",
            {
                "business_id": f"B{n % 3}",
                "id": n,
                "price": n + (n % 100) / 100 if n % 7 else None,
                "day": f"2024-02-{1 + n % 28:02d}",
                "at": f"2024-03-01T12:{n % 60:02d}:00.{n:06d}+0{n % 5}:00",
                "paid": n % 2 == 0,
                "note": f"é ✓ \"q\" '{n}' \\ end" if n % 5 else None,
                "tags": ["a", str(n)],
            },
        )
        for n in range(count)
    ]


def writes_per_batch(sandbox, warehouse, rows_per_batch: int, config: dict) -> Counter:
    since = last_statement(sandbox)
    run_in_process(
        warehouse,
        bench_invoice_lines(2 * rows_per_batch, businesses=3),
        {"batch_size_rows": rows_per_batch, **config},
    )
    log = sandbox.statements(since)
    assert all(s["status"] == "ok" for s in log), [s["error"] for s in log if s["error"]]
    counts = Counter(s["kind"] for s in log if s["kind"] in WRITES)
    return Counter({kind: n / 2 for kind, n in counts.items()})


@pytest.mark.parametrize(
    ("small", "large", "inline_rows_max"), [(10, 60, 200), (100, 1000, 0)], ids=["inline", "staged"]
)
def test_statements_per_batch_do_not_grow_with_the_batch_size(
    databricks_sandbox, simulated_databricks, small, large, inline_rows_max
):
    config = {"inline_rows_max": inline_rows_max}
    few = writes_per_batch(databricks_sandbox, simulated_databricks("few"), small, config)
    many = writes_per_batch(databricks_sandbox, simulated_databricks("many"), large, config)
    assert few == many
    # one audit MERGE for the batch, then one MERGE per table (a child table's also marks the
    # lines its parents no longer have)
    assert few["MERGE"] == 1 + len(TABLES)
    staged = len(TABLES) if inline_rows_max == 0 else 0  # (up to 3 lines of 60 invoices: inline)
    assert few["PUT"] == few["REMOVE"] == staged


def test_batches_above_the_inline_threshold_are_staged_then_removed(
    databricks_sandbox, simulated_databricks
):
    inline, staged = simulated_databricks("inline"), simulated_databricks("staged")
    messages = lines_of(things(60)) + list(bench_invoice_lines(40, businesses=2))
    run_in_process(inline, messages, {"inline_rows_max": 1000})
    since = last_statement(databricks_sandbox)
    run_in_process(staged, messages, {"inline_rows_max": 10})

    log = databricks_sandbox.statements(since)
    puts = [s["statement"] for s in log if s["kind"] == "PUT"]
    removes = [s["statement"] for s in log if s["kind"] == "REMOVE"]
    assert len(puts) == len(removes) == 1 + len(TABLES)
    assert all(".parquet' INTO '/Volumes/main/" in p for p in puts)
    merges = [s["statement"] for s in log if s["kind"] == "MERGE"]
    assert all("FROM VALUES" not in m for m in merges)
    assert sum("read_files('/Volumes/" in m for m in merges) >= len(puts)
    volume = databricks_sandbox.data_dir / "volumes" / "main" / staged.target_config["schema"]
    assert [p for p in volume.rglob("*") if p.is_file()] == [], "staged files are removed"

    for table in ("things", *TABLES):
        assert stable(rows(staged, table)) == stable(rows(inline, table)), table
    (first,) = rows(staged, "things", where="id = 1")
    assert first["at"].isoformat() == "2024-03-01T11:01:00.000001+00:00"


@pytest.mark.parametrize(
    ("layout", "clustering", "partitioning"),
    [("cluster", ["business_id"], []), ("partition", [], ["business_id"])],
)
def test_tables_are_delta_with_change_data_feed_laid_out_by_business(
    databricks_sandbox, simulated_databricks, layout, clustering, partitioning
):
    warehouse = simulated_databricks()
    run_in_process(warehouse, lines_of(things(3)), {"table_layout": layout})
    schema = warehouse.target_config["schema"]
    tables = {t["name"]: t for t in databricks_sandbox.tables() if t["schema"] == schema}
    assert set(tables) == {"things", "_load_audit"}
    for table in tables.values():
        assert table["provider"] == "delta"
        assert table["properties"]["delta.enableChangeDataFeed"] == "true"
        assert (table["clustering_columns"], table["partition_columns"]) == (
            clustering,
            partitioning,
        )


def test_a_run_reads_metadata_once_and_a_batch_is_one_query_and_one_step_writing_only_changes(
    databricks_sandbox, simulated_databricks
):
    """Round trips that do not grow with the tables: one information_schema query a run (no
    CREATE when the tables are there); per batch, one query counting what it will change, then
    the audit MERGE and the MERGE of every table with changes submitted together; a re-run of the
    same records writes no table (only the audit says it ran)."""
    warehouse = simulated_databricks("steps")
    run_in_process(warehouse, list(bench_invoice_lines(12, businesses=2)))
    since = last_statement(databricks_sandbox)
    changed = list(bench_invoice_lines(12, businesses=2, revision=1))
    run_in_process(warehouse, changed)
    log = databricks_sandbox.statements(since)
    assert [s for s in log if s["status"] != "ok"] == []
    assert [s["kind"] for s in log if "information_schema" in s["statement"]] == ["SELECT"]
    assert not [s for s in log if s["kind"].startswith(("CREATE", "ALTER"))]
    counts = [
        s for s in log if s["kind"] == "SELECT" and "information_schema" not in s["statement"]
    ]
    merges = [s for s in log if s["kind"] == "MERGE"]
    assert len(counts) == 1 and counts[0]["seq"] < min(s["seq"] for s in merges)
    # a revision changes every invoice and its items, not their taxes or payments
    merged_into = [s["statement"].split(" USING ")[0].split(".")[-1] for s in merges]
    assert sorted(merged_into) == ["`_load_audit` AS a", "`invoice_items` AS t", "`invoices` AS t"]
    assert len({s["session_id"] for s in merges}) > 1, "the MERGEs went out together"
    before = {t: rows(warehouse, t) for t in TABLES}
    since = last_statement(databricks_sandbox)
    run_in_process(warehouse, changed)
    log = databricks_sandbox.statements(since)
    merged_into = [s["statement"].split(" USING ")[0] for s in log if s["kind"] == "MERGE"]
    assert len(merged_into) == 1 and "`_load_audit`" in merged_into[0]
    assert {t: rows(warehouse, t) for t in TABLES} == before
