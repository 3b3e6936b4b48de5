"""dbt-databricks end to end on the Databricks simulator, with Spark's analyzer checking every
statement: `meltano invoke dbt-databricks build`, the month close, and the restatement a late
payment makes, from the same synced data, exactly what dbt-duckdb builds, row for row.

One tap run (Wave sandbox, transactions from a real relay's store) is written to a file and fed
to the target twice: into a DuckDB file and into the simulator (over https, OAuth M2M, as a real
workspace is reached). dbt runs through Meltano's two utilities with the project's own profile.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from webhook_relay.testing import start_webhook_relay

from testkit.month_end import (
    MELTANO,
    ROOT,
    close_month_args,
    install_dbt,
    invoke_dbt,
    last_complete_month,
)
from testkit.pipeline import BIN, tap_config
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

SECRET = "both-adapters-secret"
# Columns that say when or by which run something was written (the target's audit columns, as the
# models pass them on): they differ between any two loads or closes, whatever the warehouse.
RUN_COLUMNS = {
    "closed_at",
    "close_id",
    "closed_by",
    "last_load_id",
    "last_load_finished_at",
    "_loaded_at",
    "_updated_at",
    "updated_at",
    "_load_id",
    "load_id",
    "written_at",
    "written_by_load",
}


@pytest.fixture(scope="session")
def dbt_utilities() -> None:
    for plugin in ("dbt-duckdb", "dbt-databricks"):
        done = install_dbt(plugin)
        assert done.returncode == 0, f"meltano install of {plugin} failed:\n{done.stderr[-3000:]}"


def _singer_output(sandbox, events_db: Path, workdir: Path) -> Path:
    """One tap-wave run's messages, in a file both targets read."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "tap.json"
    config.write_text(json.dumps(tap_config(sandbox, events_db=str(events_db))))
    output = workdir / "singer.jsonl"
    with output.open("wb") as out:
        subprocess.run(
            [str(BIN / "tap-wave"), "--config", str(config)],
            stdout=out,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=300,
        )
    return output


def _load(messages: Path, target_config: dict, workdir: Path, env: dict) -> None:
    config = workdir / f"target-{target_config.get('warehouse', 'duckdb')}.json"
    config.write_text(json.dumps(target_config))
    with messages.open("rb") as stdin:
        done = subprocess.run(
            [str(BIN / "target-databricks-upsert"), "--config", str(config)],
            stdin=stdin,
            capture_output=True,
            timeout=600,
            env=env,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]


def _databricks_dbt(args: list[str], sandbox, env: dict, workdir: Path) -> None:
    target = sandbox.connection()["target_config"]
    dbt_env = {
        **env,
        "DBT_DATABRICKS_HOST": target["server_hostname"].removeprefix("https://"),
        "DBT_DATABRICKS_HTTP_PATH": target["http_path"],
        "DBT_DATABRICKS_CATALOG": target["catalog"],
        "DBT_DATABRICKS_CLIENT_ID": target["client_id"],
        "DBT_DATABRICKS_CLIENT_SECRET": target["client_secret"],
        # the workspace answers on a port of its own, not 443
        "DBT_DATABRICKS_CONNECTION_PARAMETERS": json.dumps(
            {"_connection_uri": target["server_hostname"] + target["http_path"]}
        ),
        "DBT_TARGET_PATH": str(workdir / "dbt-databricks-target"),
        "DBT_LOG_PATH": str(workdir / "dbt-databricks-logs"),
    }
    done = subprocess.run(
        [MELTANO, "invoke", "dbt-databricks", *args],
        cwd=ROOT,
        env=dbt_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


def _same(value):
    """One comparable form of a value read from either warehouse."""
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, float):
        return round(value, 9)
    return value


def _duckdb_relations(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as db:
        names = [
            r[0]
            for r in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'month_end'"
            ).fetchall()
        ]
        out = {}
        for name in names:
            cursor = db.execute(f'SELECT * FROM month_end."{name}"')
            out[name] = _rows(cursor.description, cursor.fetchall())
    return out


def _databricks_relations(sandbox) -> dict[str, list[tuple]]:
    out = {}
    with sandbox.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SHOW TABLES IN main.month_end")
        for row in cursor.fetchall():
            cursor.execute(f"SELECT * FROM main.month_end.`{row.tableName}`")
            out[row.tableName] = _rows(cursor.description, cursor.fetchall())
    return out


def _first_difference(duck: list[tuple], databricks: list[tuple]) -> str:
    if len(duck) != len(databricks):
        return f"{len(duck)} rows on DuckDB, {len(databricks)} on Databricks"
    for a, b in zip(duck, databricks, strict=True):
        if a != b:
            return (
                f"DuckDB {[c for c in a if c not in b]} Databricks {[c for c in b if c not in a]}"
            )
    return ""


def _rows(description, rows) -> list[tuple]:
    names = [d[0] for d in description]
    kept = [i for i, name in enumerate(names) if name not in RUN_COLUMNS]
    return sorted(
        (tuple((names[i], _same(row[i])) for i in kept) for row in rows),
        key=lambda r: json.dumps(r, default=str),
    )


def test_dbt_databricks_builds_and_closes_the_month_exactly_as_dbt_duckdb(
    tmp_path, wave_sandbox_factory, databricks_sandbox_factory, dbt_utilities
):
    month = last_complete_month()
    simulator = databricks_sandbox_factory(tls=True)
    trusted = {
        **os.environ,
        "REQUESTS_CA_BUNDLE": str(simulator.ca_file),
        "SSL_CERT_FILE": str(simulator.ca_file),
        "DBT_AS_OF_DATE": dt.date.today().isoformat(),
    }
    warehouse = tmp_path / "warehouse.duckdb"
    targets = [
        {"duckdb_path": str(warehouse)},
        {**simulator.connection()["target_config"], "warehouse": "databricks", "schema": "wave"},
    ]
    with start_webhook_relay(
        tmp_path / "relay" / "events.db", tmp_path, SECRET, debounce=3600, max_wait=3600
    ) as relay:
        wave = wave_sandbox_factory(
            businesses=2,
            seed=31,
            customers=8,
            vendors=2,
            products=6,
            invoices=40,
            estimates=2,
            webhook_url=relay.webhook_url,
            webhook_secret=SECRET,
        )
        business = BusinessChanges(wave, wave.business_ids()[0])
        late = business.create_invoice(
            "250.00", "2", invoice_date=month.replace(day=10).isoformat()
        )
        business.create_transaction("120.50", "13.86", date=month.replace(day=5).isoformat())
        business.create_transaction(
            "45.00",
            None,
            date=month.replace(day=6).isoformat(),
            direction="WITHDRAWAL",
            category="expense",
        )

        def sync(name: str) -> None:
            deadline = time.monotonic() + 30
            while len(relay.events()) < wave.stats()["webhooks"]["emitted"]:
                assert time.monotonic() < deadline, "the relay did not store every webhook"
                time.sleep(0.05)
            messages = _singer_output(wave, relay.db, tmp_path / name)
            for target in targets:
                _load(messages, target, tmp_path / name, trusted)

        def dbt(args: list[str]) -> None:
            done = invoke_dbt(args, warehouse, tmp_path, DBT_AS_OF_DATE=trusted["DBT_AS_OF_DATE"])
            assert done.returncode == 0, done.stdout[-4000:]
            _databricks_dbt(args, simulator, trusted, tmp_path)

        sync("first")
        dbt(["build"])
        dbt(close_month_args(month))
        # After the close: a payment dated in the closed month, recorded late
        business.pay_invoice(late, "100.00", month.replace(day=20).isoformat())
        sync("after_close")
        dbt(["build"])

    on_duckdb, on_databricks = _duckdb_relations(warehouse), _databricks_relations(simulator)
    assert sorted(on_databricks) == sorted(on_duckdb)
    assert {"month_end_close", "closed_months", "cash_by_account_month"} <= set(on_duckdb)
    assert any(on_duckdb["closed_months"]) and any(on_duckdb["month_end_close"])
    assert any(on_duckdb["month_end_restatements"]), "the late payment restates the closed month"
    differing = {
        name: _first_difference(rows, on_databricks[name])
        for name, rows in on_duckdb.items()
        if on_databricks[name] != rows
    }
    assert differing == {}
    log = simulator.statements()
    assert [s for s in log if s["status"] == "error"] == []
    assert sum(s["kind"] in ("CREATE VIEW", "CREATE TABLE") for s in log) >= len(on_duckdb)
