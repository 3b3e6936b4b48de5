"""How many requests tap-wave spends: per 1,000 records on a full sync, and per incremental change.

Against a real sandbox (3 businesses), counting the sandbox's own request counter. The floor for a
full sync is ⌈records ÷ page size⌉ per stream and business (5 per 1,000 records at page size 200);
an incremental run after k changes should cost about ⌈k ÷ page size⌉ per stream and business,
plus the daily run's id passes and open-invoice re-reads when those are on.

    .venv/bin/python -m bench.tap_requests
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from wave_sandbox.testing import start_wave_sandbox

from bench.report import Figure, add_arguments, emit
from testkit.pipeline import BIN, tap_config
from testkit.wave_changes import BusinessChanges

PAGE_SIZE = 200
BOOKS = {
    "businesses": 3,
    "seed": 5,
    "customers": 300,
    "vendors": 40,
    "products": 60,
    "invoices": 2000,
    "estimates": 300,
}
CHANGES = 30


def run_tap(sandbox, workdir: Path, state: dict | None, **settings) -> tuple[int, Counter, dict]:
    """One tap run: (requests it cost, records per stream and business, its final state)."""
    config = workdir / "tap.json"
    config.write_text(json.dumps(tap_config(sandbox, page_size=PAGE_SIZE, **settings)))
    command = [str(BIN / "tap-wave"), "--config", str(config)]
    if state:
        (workdir / "state.json").write_text(json.dumps(state))
        command += ["--state", str(workdir / "state.json")]
    before = sandbox.stats()["requests"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = sandbox.stats()["requests"] - before
    messages = [json.loads(line) for line in out.splitlines() if line.strip()]
    records = Counter(
        (m["stream"], m["record"].get("business_id")) for m in messages if m["type"] == "RECORD"
    )
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return requests, records, states[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, start_wave_sandbox(**BOOKS) as sandbox:
        workdir = Path(scratch)
        full_requests, per_stream, state = run_tap(sandbox, workdir, None)
        full_records = sum(per_stream.values())
        # one page per started 200 records of each stream and business, plus the business list
        floor = 1 + sum(
            math.ceil(n / PAGE_SIZE)
            for (stream, _), n in per_stream.items()
            if stream != "businesses"
        )
        for n, business_id in enumerate(sandbox.business_ids()):
            changes = BusinessChanges(sandbox, business_id)
            for k in range(CHANGES // 3):
                changes.create_invoice(unit_price=f"{10 + n + k}.00")
        lean, lean_records, _ = run_tap(
            sandbox, workdir, state, reconcile_deletes=False, reread_open_invoices=False
        )
        daily, _, _ = run_tap(sandbox, workdir, state)
    streams_by_business = 8 * BOOKS["businesses"]
    emit(
        [
            Figure(
                "tap requests",
                f"full sync, {full_records:,} records",
                full_requests * 1000 / full_records,
                "req/1k rec",
                f"floor: {floor} pages in all",
                full_requests / floor,
                "<=1.2",
            ),
            Figure(
                "tap requests",
                f"incremental, {CHANGES} changes",
                lean,
                "requests",
                f"1 per stream+business ({streams_by_business})",
                lean / streams_by_business,
                "<=1.2",
            ),
            Figure(
                "tap requests",
                f"daily run, {CHANGES} changes",
                daily,
                "requests",
                "incremental + id passes, re-reads",
                daily / max(lean, 1),
                "",
            ),
        ],
        args.figures_json,
    )
    if sum(lean_records.values()) < CHANGES:
        raise SystemExit(
            f"the incremental run emitted {lean_records} records for {CHANGES} changes"
        )


if __name__ == "__main__":
    main()
