"""Test and bench helpers: Singer message builders, running the real CLI, reading the warehouse
(a DuckDB file or a Databricks schema) back.

Importable by this package's tests, by other packages' end-to-end tests and by bench/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Literal, cast

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


def schema_message(
    stream: str, schema: dict[str, Any], keys: Iterable[str] = ("business_id", "id")
) -> dict[str, Any]:
    return {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": list(keys)}


def record_message(
    stream: str,
    record: dict[str, Any],
    extracted: str = "2024-05-01T00:00:00Z",
    version: int | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "RECORD",
        "stream": stream,
        "record": record,
        "time_extracted": extracted,
    }
    if version is not None:
        message["version"] = version
    return message


def batch_message(
    stream: str,
    files: list[Path],
    fmt: str = "jsonl",
    compression: str = "none",
    version: int | None = None,
) -> dict[str, Any]:
    """A singer-sdk BATCH message naming local `files`."""
    message: dict[str, Any] = {
        "type": "BATCH",
        "stream": stream,
        "manifest": [f.as_uri() for f in files],
        "encoding": {"format": fmt, "compression": compression},
    }
    if version is not None:
        message["version"] = version
    return message


def write_batch_file(
    path: Path,
    records: list[dict[str, Any]],
    fmt: str = "jsonl",
    gzipped: bool | Literal["wrapped"] = False,
    modified: str | None = None,
) -> Path:
    """Write records as the SDK's batch encoders do: JSON Lines (gzipped or not), or Parquet
    from `pa.Table.from_pylist` (`gzipped`: Parquet's gzip codec, or `"wrapped"`: a whole
    Parquet file inside gzip). `modified` (ISO) sets the file's modification time."""
    import gzip

    if fmt == "jsonl":
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
        path.write_bytes(gzip.compress(data) if gzipped else data)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        pq.write_table(
            pa.Table.from_pylist(records),
            buffer,
            compression="gzip" if gzipped is True else "snappy",
        )
        data = buffer.getvalue()
        path.write_bytes(gzip.compress(data) if gzipped == "wrapped" else data)
    if modified:
        moment = dt.datetime.fromisoformat(modified).timestamp()
        os.utime(path, (moment, moment))
    return path


def state_message(value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "STATE", "value": value}


def invoice(
    business: str,
    invoice_id: str,
    total: str = "10.00",
    items: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "business_id": business,
        "id": invoice_id,
        "invoice_number": invoice_id,
        "status": "SENT",
        "total": total,
        "total_currency": "USD",
        "items": items if items is not None else [{"description": "a", "quantity": "1"}],
    }
    record.update(extra)
    return record


class DuckDBDestination:
    """A DuckDB warehouse file written by the target (`warehouse: duckdb`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config_path = path.with_suffix(".config.json")

    def config(self) -> dict[str, Any]:
        return {"duckdb_path": str(self.path)}

    def fetch(
        self, table: str, where: str, order_by: str | None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            relation = connection.execute(f"SELECT * FROM wave.{table} LIMIT 0")
            names = [d[0] for d in relation.description]
            order = order_by or ", ".join(f'"{n}"' for n in names if not n.startswith("_"))
            found = connection.execute(
                f"SELECT * FROM wave.{table} {'WHERE ' + where if where else ''} ORDER BY {order}"
            ).fetchall()
        return names, found


class DatabricksDestination:
    """A schema of a Databricks SQL warehouse (real or simulated) written by the target.

    `target_config` reaches it for the target; `connect_kwargs` are what `databricks.sql.connect`
    needs to read the tables back, independently of the target's own adapter."""

    def __init__(
        self, target_config: dict[str, Any], connect_kwargs: dict[str, Any], config_path: Path
    ) -> None:
        self.target_config = {**target_config, "warehouse": "databricks"}
        self.connect_kwargs = connect_kwargs
        self.config_path = config_path
        self.name = f"{target_config['catalog']}.{target_config['schema']}"

    def config(self) -> dict[str, Any]:
        return dict(self.target_config)

    def fetch(
        self, table: str, where: str, order_by: str | None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        import databricks.sql

        with (
            databricks.sql.connect(**self.connect_kwargs) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(f"SELECT * FROM {self.name}.{table} LIMIT 0")
            names = [d[0] for d in cursor.description or []]
            order = order_by or ", ".join(f"`{n}`" for n in names if not n.startswith("_"))
            cursor.execute(
                f"SELECT * FROM {self.name}.{table} {'WHERE ' + where if where else ''} "
                f"ORDER BY {order}"
            )
            found = [tuple(_as_utc(v) for v in row) for row in cursor.fetchall()]
        return names, found

    def execute(self, statement: str) -> None:
        import databricks.sql

        with (
            databricks.sql.connect(**self.connect_kwargs) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)


WarehouseUnderTest = Path | DatabricksDestination
"""A warehouse under test: a DuckDB file path, or a Databricks destination."""


def simulator_destination(
    sandbox: Any, config_path: Path, oauth: bool = False
) -> DatabricksDestination:
    """A fresh schema of the Databricks simulator `sandbox` (a `databricks_sandbox` fixture),
    written with its personal access token, or with its service principal when `oauth` (OAuth
    costs each CLI run databricks-sdk's import, seconds here)."""
    info = sandbox.connection()
    config = {**info["target_config"], "schema": f"t_{uuid.uuid4().hex[:12]}"}
    if not oauth:
        del config["client_id"], config["client_secret"]
        config["access_token"] = info["pat"]
    return DatabricksDestination(config, info["connect_kwargs"], config_path)


def live_databricks(schema: str, config_path: Path) -> DatabricksDestination | None:
    """A destination in a real workspace from DATABRICKS_SERVER_HOSTNAME, DATABRICKS_HTTP_PATH and
    DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET (DATABRICKS_CATALOG,
    default main); None when they are not set."""
    env = os.environ
    host, path = env.get("DATABRICKS_SERVER_HOSTNAME"), env.get("DATABRICKS_HTTP_PATH")
    token, client_id = env.get("DATABRICKS_TOKEN"), env.get("DATABRICKS_CLIENT_ID")
    if not (host and path and (token or (client_id and env.get("DATABRICKS_CLIENT_SECRET")))):
        return None
    config: dict[str, Any] = {
        "server_hostname": host,
        "http_path": path,
        "schema": schema,
        "catalog": env.get("DATABRICKS_CATALOG", "main"),
    }
    reader: dict[str, Any] = {
        "server_hostname": host.removeprefix("https://"),
        "http_path": path,
    }
    if token:
        config["access_token"] = reader["access_token"] = token
    else:
        from databricks.sdk.core import Config, oauth_service_principal

        config.update(client_id=client_id, client_secret=env["DATABRICKS_CLIENT_SECRET"])
        sdk_config = Config(
            host=f"https://{reader['server_hostname']}",
            client_id=client_id,
            client_secret=env["DATABRICKS_CLIENT_SECRET"],
            auth_type="oauth-m2m",
        )
        reader["credentials_provider"] = lambda: oauth_service_principal(sdk_config)
    return DatabricksDestination(config, reader, config_path)


def _as_utc(value: object) -> object:
    """Databricks may answer TIMESTAMPs without a zone (in the session's, UTC by default)."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def as_destination(warehouse: WarehouseUnderTest) -> DuckDBDestination | DatabricksDestination:
    """A warehouse under test: a DuckDB file path, or a destination object as is."""
    return DuckDBDestination(warehouse) if isinstance(warehouse, Path) else warehouse


def write_config(warehouse: WarehouseUnderTest, config: dict[str, Any] | None = None) -> Path:
    """Write the target's config file for `warehouse` (plus `config`) and return its path."""
    destination = as_destination(warehouse)
    destination.config_path.write_text(json.dumps({**destination.config(), **(config or {})}))
    return destination.config_path


def run_cli(
    warehouse: WarehouseUnderTest,
    messages: str | Iterable[dict[str, Any]],
    config: dict[str, Any] | None = None,
    check: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the real `target-databricks-upsert` on `warehouse` with the messages on stdin."""
    config_path = write_config(warehouse, config)
    text = (
        messages if isinstance(messages, str) else "".join(json.dumps(m) + "\n" for m in messages)
    )
    result = subprocess.run(
        [CLI, "--config", str(config_path)],
        input=text,
        text=True,
        capture_output=True,
        timeout=timeout,
        env={**os.environ},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"target failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


ERROR_PREFIX = "target-databricks-upsert: error: "


def cli_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a failed CLI run (exit 1, no traceback), without its prefix."""
    assert result.returncode == 1, (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    found = [line for line in result.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(found) == 1, result.stderr[-3000:]
    return found[0][len(ERROR_PREFIX) :]


def run_in_process(
    warehouse: WarehouseUnderTest, lines: Iterable[str], config: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run the target inside this process on Singer `lines` (any iterable, so a test can act
    between two lines) and return the messages it wrote; no interpreter start-up per run."""
    from target_databricks_upsert.target import TargetDatabricksUpsert

    destination = as_destination(warehouse)
    target = TargetDatabricksUpsert(
        config={**destination.config(), **(config or {})}, validate_config=True
    )
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out):
            # the SDK reads its input by iterating it: any iterable of lines will do
            target.listen(file_input=cast(IO[str], lines))
    finally:  # a failed run never reaches the end of the pipe, where the target closes it
        opened = getattr(target, "_warehouse", None)
        if opened is not None:
            opened.close()
    out.flush()
    return [json.loads(line) for line in out.buffer.getvalue().decode().splitlines() if line]


def lines_of(messages: Iterable[dict[str, Any]]) -> list[str]:
    return [json.dumps(m) + "\n" for m in messages]


def last_statement(sandbox: Any) -> int:
    """The sequence number of the Databricks simulator's latest statement (0 if none)."""
    log = sandbox.statements()
    return log[-1]["seq"] if log else 0


def states(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def rows(
    warehouse: WarehouseUnderTest, table: str, order_by: str | None = None, where: str = ""
) -> list[dict[str, Any]]:
    """Every row of the target schema's `table` as dicts (ordered by its first columns unless
    told), from a DuckDB file or a Databricks schema."""
    names, found = as_destination(warehouse).fetch(table, where, order_by)
    return [dict(zip(names, row, strict=True)) for row in found]


def stable(table_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without the columns a rerun may change (_loaded_at, _updated_at, _load_id)."""
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in table_rows]
