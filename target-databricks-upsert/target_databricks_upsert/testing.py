"""Test and bench helpers: Singer message builders, running the real CLI, reading the DuckDB file.

Importable by this package's tests, by other packages' end-to-end tests and by bench/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

CLI = str(Path(sys.executable).with_name("target-databricks-upsert"))
VOLATILE = {"_loaded_at", "_updated_at", "_load_id"}

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "business_id": {"type": "string"},
        "id": {"type": "string"},
        "invoice_number": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"]},
        "total": {"type": ["string", "null"], "format": "singer.decimal"},
        "total_currency": {"type": ["string", "null"]},
        "items": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": ["string", "null"]},
                    "quantity": {"type": ["string", "null"], "format": "singer.decimal"},
                    "taxes": {
                        "type": ["array", "null"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "sales_tax_id": {"type": ["string", "null"]},
                                "amount": {"type": ["string", "null"], "format": "singer.decimal"},
                            },
                        },
                    },
                },
            },
        },
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def schema_message(stream: str, schema: dict, keys=("business_id", "id")) -> dict:
    return {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": list(keys)}


def record_message(stream: str, record: dict, extracted: str = "2024-05-01T00:00:00Z",
                   version: int | None = None) -> dict:
    message = {"type": "RECORD", "stream": stream, "record": record, "time_extracted": extracted}
    if version is not None:
        message["version"] = version
    return message


def state_message(value: dict) -> dict:
    return {"type": "STATE", "value": value}


def invoice(business: str, invoice_id: str, total: str = "10.00", items=None, **extra) -> dict:
    record = {"business_id": business, "id": invoice_id, "invoice_number": invoice_id,
              "status": "SENT", "total": total, "total_currency": "USD",
              "items": items if items is not None else [{"description": "a", "quantity": "1"}]}
    record.update(extra)
    return record


def run_cli(db_path: Path, messages, config: dict | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `target-databricks-upsert` with the messages on stdin."""
    config_path = db_path.with_suffix(".config.json")
    config_path.write_text(json.dumps({"duckdb_path": str(db_path), **(config or {})}))
    text = messages if isinstance(messages, str) else "".join(json.dumps(m) + "\n" for m in messages)
    result = subprocess.run([CLI, "--config", str(config_path)], input=text, text=True,
                            capture_output=True, timeout=timeout, env={**os.environ})
    if check and result.returncode != 0:
        raise AssertionError(f"target failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


def states(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def rows(db_path: Path, table: str, order_by: str | None = None, where: str = "") -> list[dict]:
    """Every row of wave.<table> as dicts (ordered by its first columns unless told)."""
    with duckdb.connect(str(db_path), read_only=True) as connection:
        relation = connection.execute(f"SELECT * FROM wave.{table} LIMIT 0")
        names = [d[0] for d in relation.description]
        order = order_by or ", ".join(f'"{n}"' for n in names if not n.startswith("_"))
        found = connection.execute(
            f"SELECT * FROM wave.{table} {'WHERE ' + where if where else ''} ORDER BY {order}"
        ).fetchall()
    return [dict(zip(names, row, strict=True)) for row in found]


def stable(table_rows: list[dict]) -> list[dict]:
    """Rows without the columns a rerun may change (_loaded_at, _updated_at, _load_id)."""
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in table_rows]
