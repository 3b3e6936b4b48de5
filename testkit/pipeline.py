"""Drive the real pipeline against a Wave sandbox, and read back both sides for comparison.

Used by the cross-package tests, the benchmarks and the demo: `tap-wave | target-databricks-upsert`
through their real command lines, then the sandbox's books (read with GraphQL) and the warehouse's
current rows (read with DuckDB) in one comparable shape.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from wave_sandbox.testing import WaveSandbox

BIN = Path(sys.executable).parent

INVOICES_PAGE = """
query($b: ID!, $page: Int!) { business(id: $b) { invoices(page: $page, pageSize: 200) {
  pageInfo { totalPages }
  edges { node { id status total { value } amountDue { value } amountPaid { value }
                 items { quantity } payments { id } } } } } }"""


class PipelineError(RuntimeError):
    """A pipeline command exited non-zero; the message carries the end of its stderr."""


def tap_config(sandbox: WaveSandbox, **overrides: Any) -> dict[str, Any]:
    """tap-wave settings that reach the sandbox with its full-access token, unthrottled."""
    return {
        "api_url": sandbox.graphql_url,
        "access_token": sandbox.access_token,
        "requests_per_minute": 100000,
        **overrides,
    }


def run_tap_to_target(
    sandbox: WaveSandbox,
    workdir: Path,
    duckdb_path: Path,
    state: dict[str, Any] | None = None,
    tap_overrides: dict[str, Any] | None = None,
    target_overrides: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Run `tap-wave | target-databricks-upsert` once; return the last STATE the target emitted."""
    workdir.mkdir(parents=True, exist_ok=True)
    tap_json, target_json = workdir / "tap.json", workdir / "target.json"
    tap_json.write_text(json.dumps(tap_config(sandbox, **(tap_overrides or {}))))
    target_json.write_text(
        json.dumps({"duckdb_path": str(duckdb_path), **(target_overrides or {})})
    )
    tap_cmd = [str(BIN / "tap-wave"), "--config", str(tap_json)]
    if state:
        state_json = workdir / "state.json"
        state_json.write_text(json.dumps(state))
        tap_cmd += ["--state", str(state_json)]
    with (
        (workdir / "tap.log").open("wb") as tap_log,
        (workdir / "target.log").open("wb") as tgt_log,
    ):
        tap = subprocess.Popen(tap_cmd, stdout=subprocess.PIPE, stderr=tap_log)
        target = subprocess.run(
            [str(BIN / "target-databricks-upsert"), "--config", str(target_json)],
            stdin=tap.stdout,
            capture_output=True,
            check=False,
        )
        assert tap.stdout is not None  # stdout=PIPE
        tap.stdout.close()
        tap_code = tap.wait()
        tgt_log.write(target.stderr)
    for name, code in (("tap-wave", tap_code), ("target-databricks-upsert", target.returncode)):
        if code != 0:
            log = (workdir / ("tap.log" if name == "tap-wave" else "target.log")).read_text()
            raise PipelineError(f"{name} exited {code}:\n{log[-3000:]}")
    states = [line for line in target.stdout.decode().splitlines() if line.strip()]
    last: dict[str, Any] | None = json.loads(states[-1]) if states else None
    return last


def sandbox_nodes(
    sandbox: WaveSandbox, document: str, connection: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (business_id, node) for every node of `connection`, page by page, in every business.

    `document` takes `$b: ID!, $page: Int!` and selects `business(id: $b) { <connection>(page:
    $page, ...) { pageInfo { totalPages } edges { node { ... } } } }`.
    """
    for business_id in sandbox.business_ids():
        page, pages = 1, 1
        while page <= pages:
            answer = sandbox.graphql(document, {"b": business_id, "page": page})
            assert not answer.get("errors"), answer["errors"]
            found = answer["data"]["business"][connection]
            pages = found["pageInfo"]["totalPages"] or 0
            for edge in found["edges"]:
                yield business_id, edge["node"]
            page += 1


def sandbox_invoices(sandbox: WaveSandbox) -> dict[tuple[str, str], dict[str, Any]]:
    """Every invoice the sandbox holds now, keyed by (business_id, id), in a comparable shape."""
    return {
        (business_id, node["id"]): {
            "status": node["status"],
            "total": Decimal(node["total"]["value"]),
            "amount_due": Decimal(node["amountDue"]["value"]),
            "amount_paid": Decimal(node["amountPaid"]["value"]),
            "items": len(node["items"]),
            "payments": sorted(p["id"] for p in node["payments"] or []),
        }
        for business_id, node in sandbox_nodes(sandbox, INVOICES_PAGE, "invoices")
    }


def warehouse_invoices(
    duckdb_path: Path, schema: str = "wave"
) -> dict[tuple[str, str], dict[str, Any]]:
    """The live invoices of the warehouse (`NOT _is_deleted`), in `sandbox_invoices`' shape."""
    with duckdb.connect(str(duckdb_path), read_only=True) as db:
        rows = db.execute(f"""
            SELECT i.business_id, i.id, i.status, i.total, i.amount_due, i.amount_paid,
                   (SELECT count(*) FROM {schema}.invoice_items t
                     WHERE t.business_id = i.business_id AND t.invoice_id = i.id
                       AND NOT t._is_deleted),
                   (SELECT list(p.id ORDER BY p.id) FROM {schema}.invoice_payments p
                     WHERE p.business_id = i.business_id AND p.invoice_id = i.id
                       AND NOT p._is_deleted)
            FROM {schema}.invoices i WHERE NOT i._is_deleted""").fetchall()
    return {
        (b, i): {
            "status": s,
            "total": Decimal(t),
            "amount_due": Decimal(d),
            "amount_paid": Decimal(p),
            "items": n,
            "payments": list(pay or []),
        }
        for b, i, s, t, d, p, n, pay in rows
    }


def warehouse_rows(
    duckdb_path: Path, sql: str, params: list[Any] | None = None
) -> list[tuple[Any, ...]]:
    """Run one read-only query against the DuckDB warehouse file."""
    with duckdb.connect(str(duckdb_path), read_only=True) as db:
        return db.execute(sql, params or []).fetchall()
