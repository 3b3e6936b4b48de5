"""`make demo`: the whole product, end to end, on this machine, in about a minute.

Starts the Wave sandbox (10 businesses) and the webhook relay, runs
`meltano run tap-wave target-databricks-upsert` into the embedded DuckDB warehouse
(output/warehouse.duckdb), makes a few changes in the sandbox (an invoice paid, one deleted, a
transaction) and shows them arriving through webhooks, builds the month-end dbt models, and prints
the month-end close per business. Stops everything it started, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from wave_sandbox.testing import free_port, start_wave_sandbox
from webhook_relay.testing import start_webhook_relay

from bench.wave_changes import BusinessChanges

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
WAREHOUSE = ROOT / "output" / "warehouse.duckdb"
MELTANO = str(Path(sys.executable).parent / "meltano")
SECRET = "demo-webhook-secret"
SANDBOX = {"businesses": 10, "seed": 2026, "customers": 60, "vendors": 10, "products": 25,
           "invoices": 400, "estimates": 40}
STREAM_LINE = re.compile(r"stream (\w+): (\d+) records, (\d+) requests")


def say(text: str = "") -> None:
    print(text, flush=True)


def meltano_env(sandbox_url: str) -> dict[str, str]:
    """The dev environment, pointed at this run's sandbox, with state kept under .demo/."""
    return {**os.environ, "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_STATE_BACKEND_URI": f"file://{WORK / 'state'}",
            "TAP_WAVE_API_URL": f"{sandbox_url}/graphql/public",
            "TAP_WAVE_TOKEN_URL": f"{sandbox_url}/oauth2/token/",
            "TARGET_DATABRICKS_UPSERT_DUCKDB_PATH": str(WAREHOUSE),
            "DBT_DUCKDB_PATH": str(WAREHOUSE)}


def meltano(args: list[str], env: dict, log_name: str, on_line=None) -> None:
    """Run the real meltano CLI; each output line goes to .demo/<log> and to `on_line`."""
    log_path = WORK / log_name
    with log_path.open("w") as log, subprocess.Popen(
            [MELTANO, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            log.write(line)
            if on_line:
                on_line(line)
    if process.returncode != 0:
        tail = log_path.read_text().splitlines()[-25:]
        raise SystemExit(f"meltano {' '.join(args)} failed (exit {process.returncode}); "
                         f"log {log_path}:\n" + "\n".join(tail))


def show_stream_progress(line: str) -> None:
    match = STREAM_LINE.search(line)
    if match:
        stream, records, requests = match.groups()
        say(f"    ✓ {stream:<15} {int(records):>7,} records  {int(requests):>4} requests")


def query(sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(WAREHOUSE), read_only=True) as db:
        return db.execute(sql, params or []).fetchall()


def make_changes(sandbox) -> dict:
    """An invoice paid, an invoice deleted, a card sale recorded: as a user would in Wave."""
    business_id = sandbox.business_ids()[0]
    changes = BusinessChanges(sandbox, business_id)
    unpaid = sandbox.graphql("""query($b: ID!) { business(id: $b) {
        invoices(pageSize: 2, status: UNPAID) { edges { node { id invoiceNumber
                 amountDue { value } } } } } }""", {"b": business_id})["data"]["business"]
    paid, deleted = (edge["node"] for edge in unpaid["invoices"]["edges"])
    changes.pay_invoice(paid["id"], paid["amountDue"]["value"], time.strftime("%Y-%m-%d"))
    say(f"    paid invoice {paid['invoiceNumber']} ({paid['amountDue']['value']})")
    changes.delete_invoice(deleted["id"])
    say(f"    deleted invoice {deleted['invoiceNumber']}")
    transaction = changes.create_transaction(amount="120.50", tax="0.00")
    say("    recorded a card sale (120.50)")
    return {"paid": paid["id"], "deleted": deleted["id"], "transaction": transaction}


def show_changes(changes: dict) -> None:
    (status, amount_due), = query("SELECT status, amount_due FROM wave.invoices WHERE id = ?",
                                  [changes["paid"]])
    say(f"    invoices: paid one now {status}, amount_due {amount_due}")
    (status, is_deleted), = query("SELECT status, _is_deleted FROM wave.invoices WHERE id = ?",
                                  [changes["deleted"]])
    say(f"    invoices: deleted one now status {status}, _is_deleted {is_deleted}")
    rows = query("SELECT description, anchor_amount FROM wave.transactions WHERE id = ?",
                 [changes["transaction"]])
    say(f"    transactions: {rows[0][0]} {rows[0][1]}" if rows else "    transactions: not found")


def print_month_end() -> None:
    rows = query("""
        SELECT business_name, currency, strftime(close_month, '%Y-%m'), invoice_count,
               net_revenue, tax_total, payments_received, ar_outstanding
        FROM month_end.month_end_close
        WHERE close_month = (SELECT max(close_month) FROM month_end.month_end_close)
        ORDER BY business_name""")
    header = (f"{'business':<34}{'cur':<5}{'month':<9}{'inv':>5}{'net revenue':>14}"
              f"{'tax':>12}{'cash in':>14}{'AR open':>14}")
    say(header)
    say("-" * len(header))
    for name, currency, month, count, net, tax, cash, ar in rows:
        say(f"{name[:33]:<34}{currency:<5}{month:<9}{count:>5}{net:>14,.2f}{tax:>12,.2f}"
            f"{cash:>14,.2f}{ar:>14,.2f}")


def main() -> None:
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    WAREHOUSE.parent.mkdir(parents=True, exist_ok=True)
    WAREHOUSE.unlink(missing_ok=True)
    say("Installing the Meltano plugins (tap-wave, target-databricks-upsert, dbt-duckdb)...")
    install_env = {**os.environ, "MELTANO_ENVIRONMENT": "dev"}
    meltano(["install", "tap-wave", "target-databricks-upsert", "dbt-duckdb"], install_env,
            "install.log")

    with contextlib.ExitStack() as stack:
        say(f"Starting the Wave sandbox: {SANDBOX['businesses']} businesses, "
            f"{SANDBOX['invoices']} invoices each...")
        sandbox_port = free_port()
        env = meltano_env(f"http://127.0.0.1:{sandbox_port}")
        relay = stack.enter_context(start_webhook_relay(
            WORK / "webhook-events.sqlite", ROOT, SECRET, debounce=0.5, max_wait=3.0,
            extra_args=["--meltano-bin", MELTANO, "--environment", "dev"],
            env={key: env[key] for key in env if key not in os.environ},
            log_path=WORK / "webhook-relay.log"))
        sandbox = stack.enter_context(start_wave_sandbox(
            **SANDBOX, port=sandbox_port, webhook_url=relay.webhook_url, webhook_secret=SECRET))

        say("Full sync: meltano run tap-wave target-databricks-upsert")
        meltano(["run", "tap-wave", "target-databricks-upsert"], env, "full-sync.log",
                on_line=show_stream_progress)
        (invoices,), = query("SELECT count(*) FROM wave.invoices")
        say(f"    warehouse: {invoices:,} invoices in {WAREHOUSE.relative_to(ROOT)}")

        say("Changing the books in Wave (the sandbox), which sends signed webhooks:")
        changes = make_changes(sandbox)
        relay.wait_until_idle(timeout=90, expect_events=3)
        runs = relay.runs()
        say(f"    webhook-relay: {len(relay.events())} events stored, {len(runs)} targeted run(s)")
        show_changes(changes)

        say("Month-end models: meltano invoke dbt-duckdb build")
        meltano(["invoke", "dbt-duckdb", "build"], env, "dbt.log")
        say()
        print_month_end()
    say()
    say(f"Done in {time.monotonic() - started:.0f} s. Warehouse: {WAREHOUSE.relative_to(ROOT)}; "
        f"logs: {WORK.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
