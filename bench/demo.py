"""`make demo`: the whole product, end to end, on this machine, in about a minute.

Starts the Wave sandbox (10 businesses) and the webhook relay, runs
`meltano run tap-wave target-databricks-upsert` into the embedded DuckDB warehouse
(output/warehouse.duckdb), records last month's card sale and office supplies in Wave (they arrive
by webhook), builds the month-end dbt models and closes last month, as an accountant does early
in the new month. Then, in Wave, a late payment dated in the closed month, an invoice of that
month deleted and today's card sale arrive through webhooks; the models are rebuilt, and the demo
prints the month-end table (the closed month as signed, and the current month to date) and the
restatement of the closed month. Stops everything it started, whatever happens.
"""

from __future__ import annotations

import contextlib
import datetime
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

from testkit.month_end import close_month_args, last_complete_month
from testkit.wave_changes import BusinessChanges

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
WAREHOUSE = ROOT / "output" / "warehouse.duckdb"
MELTANO = str(Path(sys.executable).parent / "meltano")
SECRET = "demo-webhook-secret"
SANDBOX = {
    "businesses": 10,
    "seed": 2026,
    "customers": 60,
    "vendors": 10,
    "products": 25,
    "invoices": 400,
    "estimates": 40,
}
FIGURES = (
    "invoice_count",
    "net_revenue",
    "tax_total",
    "payments_received",
    "transaction_money_in",
    "transaction_money_out",
    "ar_outstanding",
)
STREAM_LINE = re.compile(r"stream (\w+): (\d+) records, (\d+) requests")


def say(text: str = "") -> None:
    print(text, flush=True)


def meltano_env(sandbox_url: str) -> dict[str, str]:
    """The dev environment, pointed at this run's sandbox, with state kept under .demo/."""
    return {
        **os.environ,
        "MELTANO_ENVIRONMENT": "dev",
        "MELTANO_STATE_BACKEND_URI": f"file://{WORK / 'state'}",
        "TAP_WAVE_API_URL": f"{sandbox_url}/graphql/public",
        "TAP_WAVE_TOKEN_URL": f"{sandbox_url}/oauth2/token/",
        "TARGET_DATABRICKS_UPSERT_DUCKDB_PATH": str(WAREHOUSE),
        "DBT_DUCKDB_PATH": str(WAREHOUSE),
    }


def meltano(args: list[str], env: dict, log_name: str, on_line=None) -> None:
    """Run the real meltano CLI; each output line goes to .demo/<log> and to `on_line`."""
    log_path = WORK / log_name
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            [MELTANO, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process,
    ):
        for line in process.stdout:
            log.write(line)
            if on_line:
                on_line(line)
    if process.returncode != 0:
        tail = log_path.read_text().splitlines()[-25:]
        raise SystemExit(
            f"meltano {' '.join(args)} failed (exit {process.returncode}); "
            f"log {log_path}:\n" + "\n".join(tail)
        )


def show_stream_progress(line: str) -> None:
    match = STREAM_LINE.search(line)
    if match:
        stream, records, requests = match.groups()
        say(f"    ✓ {stream:<15} {int(records):>7,} records  {int(requests):>4} requests")


def query(sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(WAREHOUSE), read_only=True) as db:
        return db.execute(sql, params or []).fetchall()


def choose_invoices(sandbox, month: datetime.date) -> tuple[str, dict, dict]:
    """A business with two issued invoices dated in `month`: one still owing, one other."""
    month_end = (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    rows = query(
        """SELECT business_id, id, invoice_number, amount_due, status FROM wave.invoices
        WHERE NOT _is_deleted AND status <> 'DRAFT' AND invoice_date BETWEEN ? AND ?
        ORDER BY invoice_date, invoice_number""",
        [month, month_end],
    )
    for business_id in sandbox.business_ids():
        mine = [
            dict(zip(("id", "number", "amount_due", "status"), row[1:], strict=True))
            for row in rows
            if row[0] == business_id
        ]
        owing = next((i for i in mine if i["amount_due"] > 0), None)
        other = next((i for i in mine if owing and i["id"] != owing["id"]), None)
        if owing and other:
            return business_id, owing, other
    raise SystemExit(f"no business has two issued invoices dated {month:%Y-%m} in the sandbox")


def record_last_month(changes: BusinessChanges, month: datetime.date) -> None:
    """Last month's card sale and office supplies, recorded in Wave before the close."""
    changes.create_transaction("120.50", "13.86", date=month.replace(day=27).isoformat())
    say(f"    card sale 120.50 (13.86 sales tax) on {month.replace(day=27)}")
    ((supplies,),) = query(
        "SELECT id FROM wave.accounts WHERE business_id = ? AND name = ?",
        [changes.business_id, "Office Supplies"],
    )
    changes.create_transaction(
        "45.00",
        None,
        date=month.replace(day=28).isoformat(),
        direction="WITHDRAWAL",
        account_id=supplies,
        description="Office supplies",
        line_description="Paper, toner",
    )
    say(f"    office supplies 45.00 paid from the bank on {month.replace(day=28)}")


def change_after_close(
    changes: BusinessChanges, month: datetime.date, owing: dict, other: dict
) -> dict:
    """After the close: a late payment dated in the closed month, a deletion, today's sale."""
    month_end = (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    payment = changes.pay_invoice(owing["id"], f"{owing['amount_due']:.2f}", month_end.isoformat())
    say(
        f"    late payment of invoice {owing['number']} ({owing['amount_due']:,.2f}), "
        f"dated {month_end}"
    )
    changes.delete_invoice(other["id"])
    say(f"    deleted invoice {other['number']} ({other['status']}), dated in {month:%Y-%m}")
    transaction = changes.create_transaction(
        "80.00", None, date=time.strftime("%Y-%m-%d"), description="Card sale"
    )
    say("    card sale 80.00 today")
    return {"payment": payment, "deleted": other["id"], "transaction": transaction}


def show_changes(changes: dict) -> None:
    ((stored,),) = query(
        "SELECT count(*) FROM wave.invoice_payments WHERE id = ? AND NOT _is_deleted",
        [changes["payment"]],
    )
    say(f"    invoice_payments: late payment {'stored' if stored else 'not found'}")
    ((status, is_deleted),) = query(
        "SELECT status, _is_deleted FROM wave.invoices WHERE id = ?", [changes["deleted"]]
    )
    say(f"    invoices: deleted one now status {status}, _is_deleted {is_deleted}")
    rows = query(
        "SELECT description, anchor_amount FROM wave.transactions WHERE id = ?",
        [changes["transaction"]],
    )
    say(
        f"    transactions: {rows[0][0]} {rows[0][1]:,.2f}"
        if rows
        else "    transactions: not found"
    )


MONTH_END = f"""
    SELECT business_name, currency, strftime(close_month, '%Y-%m'), status, invoice_count,
           net_revenue, tax_total, payments_received + transaction_money_in,
           transaction_money_out, ar_outstanding
    FROM (
        SELECT business_name, currency, close_month,
               'closed v' || version || ' ' || strftime(closed_at, '%m-%d %H:%M') AS status,
               {", ".join(FIGURES)}
        FROM month_end.closed_months
        WHERE close_month = ? QUALIFY version = max(version) OVER (PARTITION BY business_id)
        UNION ALL
        SELECT business_name, currency, close_month, 'to date', {", ".join(FIGURES)}
        FROM month_end.month_end_close WHERE close_month = ?)
    ORDER BY business_name, currency, close_month"""


def print_month_end(closed_month: datetime.date) -> None:
    """Per business: the closed month as signed, then the current month to date."""
    rows = query(MONTH_END, [closed_month, datetime.date.today().replace(day=1)])
    header = (
        f"{'business':<30}{'cur':<5}{'month':<9}{'status':<19}{'inv':>5}"
        f"{'net revenue':>13}{'tax':>11}{'cash in':>13}{'cash out':>10}{'AR open':>13}"
    )
    say(header)
    say("-" * len(header))
    for name, currency, month, status, count, net, tax, cash_in, cash_out, ar in rows:
        say(
            f"{name[:29]:<30}{currency:<5}{month:<9}{status:<19}{count:>5}{net:>13,.2f}"
            f"{tax:>11,.2f}{cash_in:>13,.2f}{cash_out:>10,.2f}{ar:>13,.2f}"
        )


def print_restatements(month: datetime.date) -> None:
    rows = query(
        """SELECT business_name, figure, closed_value, live_value, difference,
            document_type, coalesce(document_number, document_id), change, amount_difference,
            deleted_in_wave, strftime(updated_at, '%H:%M:%S'), load_id
        FROM month_end.month_end_restatements WHERE close_month = ?
        ORDER BY business_name, figure, document_type, document_number""",
        [month],
    )
    if not rows:
        say(f"No restatement: {month:%Y-%m} is as it was closed.")
        return
    say(f"Restatements of {month:%Y-%m} (dbt test assert_closed_months_have_not_moved warns):")
    figure = None
    for business, name, closed, live, diff, kind, number, change, amount, gone, at, load in rows:
        places = 0 if name == "invoice_count" else 2
        if (business, name) != figure:
            figure = (business, name)
            say(
                f"  {business[:29]:<30}{name:<22}closed {closed:>12,.{places}f}  now "
                f"{live:>12,.{places}f}  ({diff:+,.{places}f})"
            )
        what = {"payment": "payment on invoice"}.get(kind, kind)
        cause = "deleted in Wave" if gone else f"written {at} by load {load[:8]}"
        say(f"      {what} {number}: {change} ({amount:+,.{places}f}), {cause}")


def wait_for_relay(relay, sandbox) -> None:
    """Every webhook sent so far stored and written to the warehouse by the relay's runs."""
    relay.wait_until_idle(timeout=90, expect_events=sandbox.stats()["webhooks"]["emitted"])
    say(
        f"    webhook-relay: {len(relay.events())} events stored, {len(relay.runs())} "
        "targeted run(s) so far"
    )


def main() -> None:
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    WAREHOUSE.parent.mkdir(parents=True, exist_ok=True)
    WAREHOUSE.unlink(missing_ok=True)
    say("Installing the Meltano plugins (tap-wave, target-databricks-upsert, dbt-duckdb)...")
    install_env = {**os.environ, "MELTANO_ENVIRONMENT": "dev"}
    meltano(
        ["install", "tap-wave", "target-databricks-upsert", "dbt-duckdb"],
        install_env,
        "install.log",
    )

    with contextlib.ExitStack() as stack:
        say(
            f"Starting the Wave sandbox: {SANDBOX['businesses']} businesses, "
            f"{SANDBOX['invoices']} invoices each..."
        )
        sandbox_port = free_port()
        env = meltano_env(f"http://127.0.0.1:{sandbox_port}")
        relay = stack.enter_context(
            start_webhook_relay(
                WORK / "webhook-events.sqlite",
                ROOT,
                SECRET,
                debounce=0.5,
                max_wait=3.0,
                extra_args=["--meltano-bin", MELTANO, "--environment", "dev"],
                env={key: env[key] for key in env if key not in os.environ},
                log_path=WORK / "webhook-relay.log",
            )
        )
        sandbox = stack.enter_context(
            start_wave_sandbox(
                **SANDBOX, port=sandbox_port, webhook_url=relay.webhook_url, webhook_secret=SECRET
            )
        )

        say("Full sync: meltano run tap-wave target-databricks-upsert")
        meltano(
            ["run", "tap-wave", "target-databricks-upsert"],
            env,
            "full-sync.log",
            on_line=show_stream_progress,
        )
        ((invoices,),) = query("SELECT count(*) FROM wave.invoices")
        say(f"    warehouse: {invoices:,} invoices in {WAREHOUSE.relative_to(ROOT)}")

        month = last_complete_month()
        business_id, owing, other = choose_invoices(sandbox, month)
        changes = BusinessChanges(sandbox, business_id)
        say(f"Recording {month:%Y-%m} in Wave (the sandbox), which sends signed webhooks:")
        record_last_month(changes, month)
        wait_for_relay(relay, sandbox)

        say("Month-end models: meltano invoke dbt-duckdb build")
        meltano(["invoke", "dbt-duckdb", "build"], env, "dbt-build.log")
        say(
            f"Closing {month:%Y-%m}: meltano invoke dbt-duckdb run-operation close_month "
            f"--args '{{month: \"{month:%Y-%m}\"}}'"
        )
        meltano(["invoke", "dbt-duckdb", *close_month_args(month)], env, "dbt-close.log")
        ((businesses, closed_at),) = query(
            "SELECT count(DISTINCT business_id), max(closed_at) "
            "FROM month_end.closed_months WHERE close_month = ?",
            [month],
        )
        say(f"    closed for {businesses} businesses at {closed_at:%Y-%m-%d %H:%M:%S %Z}")

        say("After the close, in Wave:")
        made = change_after_close(changes, month, owing, other)
        wait_for_relay(relay, sandbox)
        show_changes(made)

        say("Month-end models again: meltano invoke dbt-duckdb build")
        meltano(["invoke", "dbt-duckdb", "build"], env, "dbt-rebuild.log")
        say()
        print_month_end(month)
        say()
        print_restatements(month)
    say()
    say(
        f"Done in {time.monotonic() - started:.0f} s. Warehouse: {WAREHOUSE.relative_to(ROOT)}; "
        f"logs: {WORK.relative_to(ROOT)}/"
    )


if __name__ == "__main__":
    main()
