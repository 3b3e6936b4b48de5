"""Fuzz the relay's door over HTTP: forged and mutated webhooks are never stored; authentic ones
with odd but valid content are stored once, byte for byte, and loaded by the relay's real runs.

A real relay process (its runs are real `meltano run`s of tap-wave in events mode and the target
into DuckDB, against a Wave sandbox) gets:

1. at least 1,000 generated requests that must not be stored (testkit/webhook_forgeries.py: a wrong
   secret, a body changed after signing, a moved or malformed signature, a timestamp outside the
   tolerance, another method, or a correctly signed body that is not a usable event). Each gets
   the contract's status (401, 405 or 400) with a reason code; afterwards the store holds no new
   event and `/metrics` counted every one as rejected and none as received.
2. authentic events with odd but valid content (the whole id and type alphabets and lengths,
   Wave's entity types naming ids Wave does not have, unicode in nested data, lone surrogates
   escaped, unusual formatting, bodies of exactly 1 MiB, events of real invoices with odd data): each is answered 202 (200 for an id already
   stored), stored as sent, and ends in `webhook_events` once with the body as sent.

`WEBHOOK_FUZZ_SEED` replays a run (the seed is printed); `WEBHOOK_FUZZ_FORGED` and
`WEBHOOK_FUZZ_AUTHENTIC` change the counts (1,000 and 300 here; `make chaos` runs more).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from types import SimpleNamespace

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from wave_sandbox.testing import start_wave_sandbox
from webhook_relay.testing import start_webhook_relay

from testkit.meltano_project import MELTANO, make_project, point_at
from testkit.pipeline import sandbox_invoices, warehouse_rows
from testkit.webhook_forgeries import forgeries
from testkit.webhook_fuzz import MAX_BODY, header, odd_events

pytestmark = pytest.mark.slow

SECRET = "fuzz-webhook-secret-5d1e"
FORGED = int(os.environ.get("WEBHOOK_FUZZ_FORGED") or 1000)
AUTHENTIC = int(os.environ.get("WEBHOOK_FUZZ_AUTHENTIC") or 300)
BOOKS = {
    "businesses": 2,
    "seed": 3,
    "customers": 2,
    "vendors": 1,
    "products": 2,
    "invoices": 3,
    "estimates": 1,
}
ODD_BUSINESSES = [":", "=", "/", "..", "-_-", "B" * 200, "QnVzaW5lc3M6Ojo=", "a+b/c=d.e:f"]
FUZZ = {
    "deadline": None,
    "database": None,
    "phases": [Phase.generate, Phase.shrink],
    "suppress_health_check": list(HealthCheck),
    "print_blob": True,
}


@pytest.fixture(scope="module")
def fuzz_seed() -> int:
    chosen = int(os.environ.get("WEBHOOK_FUZZ_SEED") or random.SystemRandom().randrange(10**9))
    print(f"webhook fuzz seed {chosen} (replay: WEBHOOK_FUZZ_SEED={chosen})")
    return chosen


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("relay-fuzz")
    project = make_project(root / "project")
    flags = ["--meltano-bin", str(MELTANO), "--retry-base", "0.5", "--retry-max", "4"]
    with (
        start_webhook_relay(
            root / "relay" / "events.db",
            project,
            SECRET,
            debounce=0.5,
            max_wait=5,
            extra_args=flags,
        ) as relay,
        start_wave_sandbox(**BOOKS) as sandbox,
        httpx.Client(timeout=30) as client,
    ):
        point_at(project, sandbox, root / "warehouse.duckdb")
        yield SimpleNamespace(
            relay=relay, sandbox=sandbox, client=client, warehouse=root / "warehouse.duckdb"
        )


def totals(samples: dict[str, float], family: str) -> float:
    return sum(v for k, v in samples.items() if k == family or k.startswith(family + "{"))


def test_forged_and_mutated_webhooks_are_refused_and_none_is_stored(pipeline, fuzz_seed):
    relay, client = pipeline.relay, pipeline.client

    def stored() -> list[tuple[str, str]]:
        return [(event["id"], event["body"]) for event in relay.events()]

    stored_before, metrics_before = stored(), relay.metrics()
    outcomes: Counter = Counter()

    @settings(max_examples=FORGED, **FUZZ)
    @seed(fuzz_seed)
    @given(forgery=forgeries(SECRET))
    def refused(forgery):
        method, headers, body = forgery.request(SECRET, int(time.time()))
        answer = client.request(method, relay.webhook_url, content=body, headers=headers)
        outcomes[(forgery.kind, answer.status_code)] += 1
        assert answer.status_code == forgery.expected, (answer.status_code, answer.text[:300])
        assert list(answer.json()) == ["error"]

    started = time.monotonic()
    refused()
    took, sent = time.monotonic() - started, sum(outcomes.values())
    print(
        f"{sent} forged or mutated webhooks in {took:.1f} s: "
        + ", ".join(f"{kind} -> {status}: {n}" for (kind, status), n in sorted(outcomes.items()))
    )
    assert sent >= FORGED
    assert stored() == stored_before
    metrics = relay.metrics()
    delta = {
        family: totals(metrics, family) - totals(metrics_before, family)
        for family in (
            "webhook_relay_requests_rejected_total",
            "webhook_relay_events_received_total",
            "webhook_relay_events_duplicate_total",
        )
    }
    assert delta == {
        "webhook_relay_requests_rejected_total": sent,
        "webhook_relay_events_received_total": 0,
        "webhook_relay_events_duplicate_total": 0,
    }
    assert "Traceback" not in relay.log()


def exactly_one_mib(business_id: str, filler: str) -> bytes:
    """An authentic event whose body is exactly the relay's limit, in multi-byte characters."""
    event = {
        "id": f"evt_big_{ord(filler[0]):x}",
        "type": "fuzz.big",
        "businessId": business_id,
        "data": {"id": "big", "text": ""},
    }
    room = MAX_BODY - len(json.dumps(event, ensure_ascii=False).encode())
    width = len(filler.encode())
    event["data"]["text"] = filler * (room // width) + "a" * (room % width)
    body = json.dumps(event, ensure_ascii=False).encode()
    assert len(body) == MAX_BODY
    return body


def invoice_event(business_id: str, invoice_id: str, event_type: str) -> bytes:
    """An event of a real invoice (its run re-reads it from Wave), with odd data around."""
    return json.dumps(
        {
            "type": event_type,
            "businessId": business_id,
            "id": f"evt_inv_{event_type}"[:200],
            "createdAt": "2026-11-28T12:00:00Z",
            "data": {
                "id": invoice_id,
                "note": "Grüße ☃ 東京 🧾 \u202e\u0301",
                "object": {"lines": [[[{"x": None}]]], "amount": 1e308},
            },
        },
        ensure_ascii=False,
    ).encode()


def test_odd_but_valid_authentic_webhooks_are_stored_once_and_loaded(pipeline, fuzz_seed):
    relay, client, sandbox = pipeline.relay, pipeline.client, pipeline.sandbox
    posted: dict[str, bytes] = {}  # id -> the body stored (the first one sent)
    duplicates = Counter()

    def post(body: bytes) -> None:
        event_id = json.loads(body)["id"]
        answer = client.post(
            relay.webhook_url,
            content=body,
            headers={
                "x-wave-signature": header(SECRET, int(time.time()), body),
                "content-type": "application/json",
            },
        )
        if event_id in posted:  # hypothesis varies an example around the same id
            assert (answer.status_code, answer.json()) == (
                200,
                {"status": "duplicate", "id": event_id},
            )
            duplicates[event_id] += 1
        else:
            assert (answer.status_code, answer.json()) == (
                202,
                {"status": "stored", "id": event_id},
            ), answer.text[:300]
            posted[event_id] = body

    businesses = sandbox.business_ids()

    @settings(max_examples=AUTHENTIC, **FUZZ)
    @seed(fuzz_seed)
    @given(body=odd_events(businesses + ODD_BUSINESSES, businesses))
    def stored(body):
        post(body)

    stored()
    assert len(posted) >= AUTHENTIC // 5  # distinct ids: the rest are answered as duplicates
    for filler in ("é", "🧾", "a"):
        post(exactly_one_mib(businesses[0], filler))
    for number, (business_id, invoice_id) in enumerate(sorted(sandbox_invoices(sandbox))[:2]):
        post(
            invoice_event(
                business_id, invoice_id, ["invoice.updated", "invoice.Future_Type-v2.x"][number]
            )
        )

    deadline = time.monotonic() + 240
    while not all(e["state"] == "done" for e in relay.events()):
        stuck = [
            (e["id"][:40], e["state"], e["quarantine_reason"])
            for e in relay.events()
            if e["state"] == "quarantined"
        ]
        assert not stuck and time.monotonic() < deadline, (stuck, relay.log()[-3000:])
        time.sleep(0.5)
    rows = {e["id"]: e for e in relay.events()}
    for event_id, body in posted.items():
        event = json.loads(body)
        assert (rows[event_id]["body"], rows[event_id]["business_id"], rows[event_id]["type"]) == (
            body.decode(),
            event["businessId"],
            event["type"],
        )
    loaded: dict[str, list] = {}
    for event_id, business_id, event_type, body in warehouse_rows(
        pipeline.warehouse, "SELECT id, business_id, type, body FROM wave.webhook_events"
    ):
        loaded.setdefault(event_id, []).append((business_id, event_type, body))
    assert {i: len(found) for i, found in loaded.items() if len(found) != 1} == {}
    assert loaded.keys() == posted.keys()
    for event_id, body in posted.items():
        event = json.loads(body)
        assert loaded[event_id] == [(event["businessId"], event["type"], body.decode())]
    live = warehouse_rows(
        pipeline.warehouse,
        "SELECT business_id, id, total FROM wave.invoices WHERE NOT _is_deleted ORDER BY 1, 2",
    )
    books = sandbox_invoices(sandbox)
    assert [(b, i, books[(b, i)]["total"]) for b, i, _ in live] == live  # exactly as in Wave
    assert len(live) == 2  # the two invoices named by events (other ids: not in Wave, skipped)
    print(
        f"{len(posted)} odd but valid webhooks stored and loaded "
        f"({len(relay.runs())} runs, {sum(len(b) for b in posted.values()) / 1e6:.1f} MB), "
        f"{duplicates.total()} more answered as duplicates of them"
    )
