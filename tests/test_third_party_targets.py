"""tap-wave with the targets Meltano Hub users pair a tap with: MeltanoLabs target-postgres on a real
PostgreSQL server (pgserver's, from PyPI) and target-jsonl, each installed by Meltano as a plugin of
its own and fed by `meltano run tap-wave <target>`, with `emit_activate_version_messages: true`.

The runs, in order, against a Wave sandbox of two businesses whose webhooks a real relay stores:
a full run (after a `transaction.created` webhook), a run scoped to business A (PostgreSQL only),
then (after an invoice of A was deleted in Wave) an events-mode run for A, as the relay starts
them. Then:

- amounts are NUMERIC columns in PostgreSQL holding Wave's exact values (JSON: exact strings);
- no run but the full one retires anything: business B's accounts and business row stay live
  through the scoped and the events-mode run (ACTIVATE_VERSION only where the run read it all);
- the relay's receipt time of a transaction is in `received_at`, its own column;
- the deleted invoice is what tap-wave's README says a third-party target makes of a deletion.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pgserver
import psycopg
import pytest
import yaml
from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import start_webhook_relay

from testkit.meltano_project import make_project, meltano
from testkit.pipeline import sandbox_invoices
from testkit.wave_changes import BusinessChanges

pytestmark = pytest.mark.slow

SECRET = "third-party-secret"
SMALL = {
    "businesses": 2,
    "seed": 23,
    "customers": 5,
    "vendors": 2,
    "products": 4,
    "invoices": 10,
    "estimates": 3,
}
LOADERS = [
    {
        "name": "target-postgres",
        "variant": "meltanolabs",
        "namespace": "target_postgres",
        "pip_url": "meltanolabs-target-postgres~=0.8.1",
        "executable": "target-postgres",
        "settings": [
            {"name": "sqlalchemy_url", "kind": "password", "sensitive": True},
            {"name": "default_target_schema"},
            {"name": "add_record_metadata", "kind": "boolean"},
            {"name": "activate_version", "kind": "boolean"},
            {"name": "hard_delete", "kind": "boolean"},
        ],
    },
    {
        "name": "target-jsonl",
        "variant": "andyh1203",
        "namespace": "target_jsonl",
        "pip_url": "target-jsonl==0.1.4",
        "executable": "target-jsonl",
        "settings": [
            {"name": "destination_path"},
            {"name": "do_timestamp_file", "kind": "boolean"},
        ],
    },
]


class Pipeline:
    """The Meltano project, the sandbox, the relay's store and both destinations."""

    def __init__(self, project: Path, sandbox, relay, postgres_url: str, jsonl: Path) -> None:
        self.project, self.sandbox, self.relay = project, sandbox, relay
        self.postgres_url, self.jsonl = postgres_url, jsonl
        self.a, self.b = (BusinessChanges(sandbox, b) for b in sandbox.business_ids())
        self.snapshots: dict[str, dict] = {}

    def run(self, loader: str, **env: str) -> None:
        meltano(self.project, "run", "tap-wave", loader, env=env, timeout=600)

    def sql(self, query: str, *params) -> list[tuple]:
        with psycopg.connect(self.postgres_url) as connection:
            return connection.execute(query, params).fetchall()

    def live_rows(self, table: str) -> dict[str, int]:
        """Per business, the rows of `table` in PostgreSQL not marked deleted."""
        return dict(
            self.sql(
                f"SELECT business_id, count(*) FROM wave.{table} "
                "WHERE _sdc_deleted_at IS NULL GROUP BY 1"
            )
        )

    def wait_for_webhooks(self) -> None:
        """Until the relay stored every webhook the sandbox emitted."""
        emitted = self.sandbox.stats()["webhooks"]["emitted"]
        deadline = time.monotonic() + 30
        while len(self.relay.events()) < emitted:
            assert time.monotonic() < deadline, "the relay did not store the sandbox's webhooks"
            time.sleep(0.1)

    def lines(self, stream: str) -> list[dict]:
        """The records target-jsonl wrote for `stream`, in order."""
        path = self.jsonl / f"{stream}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


def install_loaders(project: Path, postgres_url: str, jsonl: Path) -> None:
    manifest = yaml.safe_load((project / "meltano.yml").read_text())
    manifest["plugins"]["loaders"] += LOADERS
    environment = next(e for e in manifest["environments"] if e["name"] == "dev")
    environment["config"]["plugins"]["loaders"] += [
        {
            "name": "target-postgres",
            "config": {
                "sqlalchemy_url": postgres_url.replace("postgresql://", "postgresql+psycopg://"),
                "default_target_schema": "wave",
                "add_record_metadata": True,
            },
        },
        {
            "name": "target-jsonl",
            "config": {"destination_path": str(jsonl), "do_timestamp_file": False},
        },
    ]
    (project / "meltano.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    meltano(project, "install", "loader", "target-postgres", "target-jsonl", timeout=900)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("third-party")
    # Run as root, pgserver runs PostgreSQL as a user of its own, which must reach the data
    # directory: outside pytest's private temporary tree.
    pgdata = Path(tempfile.mkdtemp(prefix="wave-third-party-pg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    postgres_url = server.get_uri()
    project = make_project(root / "project")
    jsonl = root / "jsonl"
    install_loaders(project, postgres_url, jsonl)
    with (
        start_webhook_relay(
            root / "relay" / "events.db", root, SECRET, debounce=3600, max_wait=3600
        ) as relay,
        start_wave_sandbox(
            **SMALL, webhook_url=relay.webhook_url, webhook_secret=SECRET
        ) as sandbox,
    ):
        (project / ".env").write_text(
            "".join(
                f"{name}='{value}'\n"
                for name, value in {
                    "TAP_WAVE_API_URL": sandbox.graphql_url,
                    "TAP_WAVE_TOKEN_URL": sandbox.token_url,
                    "TAP_WAVE_ACCESS_TOKEN": sandbox.access_token,
                    "TAP_WAVE_EVENTS_DB": relay.db,
                    "TAP_WAVE_EMIT_ACTIVATE_VERSION_MESSAGES": "true",
                }.items()
            )
        )
        yield from run_the_story(Pipeline(project, sandbox, relay, postgres_url, jsonl))
    server.cleanup()
    shutil.rmtree(pgdata, ignore_errors=True)


def run_the_story(pipeline: Pipeline):
    p = pipeline
    transaction = p.a.create_transaction(amount="120.50", tax="13.86")
    p.wait_for_webhooks()
    for loader in ("target-postgres", "target-jsonl"):
        p.run(loader)
    p.snapshots["full"] = {t: p.live_rows(t) for t in ("accounts", "businesses", "invoices")}
    p.snapshots["unversioned_accounts"] = p.sql(
        "SELECT count(*) FROM wave.accounts WHERE _sdc_table_version IS NULL"
    )[0][0]
    p.snapshots["invoices_in_wave"] = sandbox_invoices(p.sandbox)

    scope_a = {"TAP_WAVE_BUSINESS_IDS": json.dumps([p.a.business_id])}
    p.run("target-postgres", **scope_a)  # (target-jsonl retires nothing: no need)
    p.snapshots["scoped"] = {t: p.live_rows(t) for t in ("accounts", "businesses")}

    doomed = sorted(i for b, i in p.snapshots["invoices_in_wave"] if b == p.a.business_id)[0]
    p.a.delete_invoice(doomed)
    p.wait_for_webhooks()
    for loader in ("target-postgres", "target-jsonl"):
        p.run(loader, TAP_WAVE_SYNC_MODE="events", **scope_a)
    p.snapshots["events"] = {t: p.live_rows(t) for t in ("accounts", "businesses")}
    p.snapshots["doomed"] = doomed
    p.snapshots["transaction"] = transaction
    yield p


def test_amounts_are_numeric_columns_holding_waves_exact_values(pipeline):
    types = dict(
        pipeline.sql(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'wave' AND column_name IN ('total', 'amount_due', 'balance', "
            "'anchor_amount', 'unit_price', 'rate')"
        )
    )
    assert types and set(types.values()) == {"numeric"}, types
    assert {"invoices.total", "accounts.balance", "transactions.anchor_amount"} <= set(types)
    in_wave = pipeline.snapshots["invoices_in_wave"]
    loaded = {
        (b, i): total
        for b, i, total in pipeline.sql(
            "SELECT business_id, id, total FROM wave.invoices WHERE _sdc_deleted_at IS NULL"
        )
    }
    assert loaded == {
        key: invoice["total"]
        for key, invoice in in_wave.items()
        if key[1] != pipeline.snapshots["doomed"]
    }
    assert all(isinstance(total, Decimal) for total in loaded.values())
    for line in pipeline.lines("invoices"):
        if line.get("total") is not None:
            key = (line["business_id"], line["id"])
            assert Decimal(line["total"]) == in_wave[key]["total"]
            assert isinstance(line["total"], str)


def test_no_run_but_a_full_one_retires_another_business_rows(pipeline):
    full, scoped, events = (pipeline.snapshots[k] for k in ("full", "scoped", "events"))
    b = pipeline.b.business_id
    assert full["accounts"][b] > 0 and full["businesses"][b] == 1
    assert scoped == {t: full[t] for t in scoped} and events == scoped
    # the full run did send ACTIVATE_VERSION: every account it loaded carries the table version
    assert pipeline.snapshots["unversioned_accounts"] == 0


def test_the_relays_receipt_time_has_a_column_of_its_own(pipeline):
    [event] = [e for e in pipeline.relay.events() if e["type"] == "transaction.created"]
    [(received_at, extracted_at)] = pipeline.sql(
        "SELECT received_at, _sdc_extracted_at FROM wave.transactions WHERE id = %s",
        pipeline.snapshots["transaction"],
    )
    relay_time = datetime.fromisoformat(event["received_at"].replace("Z", "+00:00"))
    assert received_at == relay_time.replace(tzinfo=None)  # target-postgres: naive UTC
    assert extracted_at != received_at  # the target's own metadata, not the relay's time
    [line] = pipeline.lines("transactions")[:1]
    assert line["received_at"] == event["received_at"]


def test_a_deleted_invoice_is_what_taps_readme_says(pipeline):
    doomed, business = pipeline.snapshots["doomed"], pipeline.a.business_id
    [(status, deleted_at, total, customer_id)] = pipeline.sql(
        "SELECT status, _sdc_deleted_at, total, customer_id FROM wave.invoices "
        "WHERE business_id = %s AND id = %s",
        business,
        doomed,
    )
    assert (status, total, customer_id) == ("DELETED", None, None)
    assert deleted_at is not None
    deletions = [
        line
        for line in pipeline.lines("invoices")
        if line["id"] == doomed and line.get("_sdc_deleted_at")
    ]
    assert deletions and set(deletions[-1]) == {
        "business_id",
        "id",
        "status",
        "modified_at",
        "_sdc_deleted_at",
    }
    earlier = [
        line
        for line in pipeline.lines("invoices")
        if line["id"] == doomed and not line.get("_sdc_deleted_at")
    ]
    assert (
        Decimal(earlier[0]["total"])
        == pipeline.snapshots["invoices_in_wave"][(business, doomed)]["total"]
    )
