"""tap-wave's own `batch_config` (the singer-sdk's BATCH messages) through target-databricks-upsert's
real CLI lands the same rows as RECORD messages do: a full sync, then changes in the sandbox (a
payment, a deleted invoice) and an incremental run, then a rerun that changes nothing.

Before, the target accepted the BATCH messages, logged the records, wrote no row and emitted the
tap's STATE, so the next incremental run skipped the lost records for good.

The Parquet encoding is refused: the singer-sdk's Parquet writer keeps only the properties of a
file's first record, and tap-wave omits some (`_sdc_deleted_at` but on deletions, some ids), so
those files have lost values the target cannot tell from NULLs.
"""

from __future__ import annotations

import pytest

from testkit.pipeline import (
    PipelineError,
    run_tap_to_target,
    sandbox_invoices,
    warehouse_invoices,
    warehouse_rows,
)
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

TABLES = (
    "businesses",
    "customers",
    "vendors",
    "products",
    "accounts",
    "sales_taxes",
    "invoices",
    "invoice_items",
    "invoice_item_taxes",
    "invoice_payments",
    "estimates",
    "estimate_items",
)
# What differs between two runs of the tap: when it read (and noticed a deletion) and loaded.
CHANGED_BY_THE_RUN = "_loaded_at, _updated_at, _load_id, _extracted_at, _sequence, _deleted_at"


@pytest.fixture
def sandbox(wave_sandbox_factory):
    return wave_sandbox_factory(
        businesses=2, seed=5, customers=8, invoices=30, estimates=4, products=5, vendors=2
    )


def _same(left: dict, right: dict) -> None:
    for table in TABLES:
        only_left = [r for r in left[table] if r not in right[table]]
        only_right = [r for r in right[table] if r not in left[table]]
        assert not only_left and not only_right, (table, only_left[:1], only_right[:1])


def _contents(warehouse) -> dict[str, list[tuple]]:
    return {
        table: warehouse_rows(
            warehouse, f"SELECT * EXCLUDE ({CHANGED_BY_THE_RUN}) FROM wave.{table} ORDER BY ALL"
        )
        for table in TABLES
    }


def _batch_config(tmp_path, encoding: dict) -> dict:
    return {
        "encoding": encoding,
        "batch_size": 7,
        "storage": {"root": (tmp_path / "batches").as_uri(), "prefix": "wave-"},
    }


def test_tap_wave_jsonl_batches_load_the_same_rows_as_records(sandbox, tmp_path):
    batch_config = _batch_config(tmp_path, {"format": "jsonl", "compression": "gzip"})
    batched, recorded = tmp_path / "batched.duckdb", tmp_path / "recorded.duckdb"
    business = sandbox.business_ids()[0]
    unpaid = sandbox.graphql(
        """query($b: ID!) { business(id: $b) { invoices(pageSize: 50,
        status: UNPAID) { edges { node { id amountDue { value } } } } } }""",
        {"b": business},
    )
    paid, doomed = [e["node"] for e in unpaid["data"]["business"]["invoices"]["edges"]][:2]

    batch_state = run_tap_to_target(
        sandbox, tmp_path / "b1", batched, tap_overrides={"batch_config": batch_config}
    )
    record_state = run_tap_to_target(sandbox, tmp_path / "r1", recorded)
    assert batch_state and "bookmarks" in batch_state
    assert warehouse_invoices(batched) == sandbox_invoices(sandbox)
    ((invoices,),) = warehouse_rows(batched, "SELECT count(*) FROM wave.invoices")
    assert invoices == 60
    _same(_contents(batched), _contents(recorded))

    changes = BusinessChanges(sandbox, business)
    changes.pay_invoice(paid["id"], paid["amountDue"]["value"])
    changes.delete_invoice(doomed["id"])
    batch_state = run_tap_to_target(
        sandbox,
        tmp_path / "b2",
        batched,
        state=batch_state,
        tap_overrides={"batch_config": batch_config},
    )
    record_state = run_tap_to_target(sandbox, tmp_path / "r2", recorded, state=record_state)
    assert warehouse_invoices(batched) == sandbox_invoices(sandbox)
    ((deleted,),) = warehouse_rows(
        batched, "SELECT _is_deleted FROM wave.invoices WHERE id = ?", [doomed["id"]]
    )
    assert deleted is True
    _same(_contents(batched), _contents(recorded))

    before = _contents(batched)
    run_tap_to_target(
        sandbox,
        tmp_path / "b3",
        batched,
        state=batch_state,
        tap_overrides={"batch_config": batch_config},
    )
    assert _contents(batched) == before


def test_tap_wave_parquet_batches_are_refused_and_lose_nothing(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    parquet = _batch_config(tmp_path, {"format": "parquet", "compression": "gzip"})
    with pytest.raises(PipelineError):  # the target exits 1; the tap then loses its pipe
        run_tap_to_target(
            sandbox, tmp_path / "p1", warehouse, tap_overrides={"batch_config": parquet}
        )
    errors = [
        line
        for line in (tmp_path / "p1" / "target.log").read_text().splitlines()
        if line.startswith("target-databricks-upsert: error: ")
    ]
    assert len(errors) == 1, errors
    assert "has no column for the stream's properties" in errors[0] and "Use the jsonl" in errors[0]

    jsonl = _batch_config(tmp_path, {"format": "jsonl", "compression": "gzip"})
    run_tap_to_target(sandbox, tmp_path / "j1", warehouse, tap_overrides={"batch_config": jsonl})
    assert warehouse_invoices(warehouse) == sandbox_invoices(sandbox)
