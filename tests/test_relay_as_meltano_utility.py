"""The relay as the Meltano project runs it: `meltano invoke webhook-relay:serve` in the project.

A signed webhook posted to it is stored in the project's event store (the one the tap's
`events_db` names in prod), and an unsigned one is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import time

import httpx
import pytest
from wave_sandbox.testing import free_port

from testkit.meltano_project import MELTANO, make_project, meltano

pytestmark = pytest.mark.slow
SECRET = "utility-test-secret"


def test_meltano_invoke_serve_stores_signed_webhooks(tmp_path):
    project = make_project(tmp_path / "project")
    meltano(project, "install", "utility", "webhook-relay")
    port = free_port()
    env = {**os.environ, "WAVE_WEBHOOK_SECRET": SECRET, "WEBHOOK_RELAY_PORT": str(port)}
    relay = subprocess.Popen(
        [str(MELTANO), "--environment", "prod", "invoke", "webhook-relay:serve"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the relay did not come up"
            time.sleep(0.2)
        body = json.dumps(
            {
                "id": "evt_utility_1",
                "type": "customer.created",
                "createdAt": "2026-11-28T12:00:00.000Z",
                "businessId": "biz-1",
                "data": {"id": "cust-1"},
            }
        ).encode()
        stamp = int(time.time())
        signature = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        signed = {
            "x-wave-signature": f"t={stamp},v1={signature.hexdigest()}",
            "Content-Type": "application/json",
        }
        assert httpx.post(f"{url}/webhooks/wave", content=body, headers=signed).status_code == 202
        assert httpx.post(f"{url}/webhooks/wave", content=body).status_code == 401
    finally:
        os.killpg(relay.pid, signal.SIGTERM)
        relay.wait(30)
    store = project / ".meltano" / "webhook-events.sqlite"
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT id, business_id FROM events").fetchall() == [
            ("evt_utility_1", "biz-1")
        ]
    # The operators' command finds the project's store through the utility's settings.
    listed = meltano(
        project, "--environment", "prod", "invoke", "webhook-relay", "events", "--json"
    )
    counts = json.loads(listed.stdout[listed.stdout.index("{") :])
    assert counts["done"] + counts["pending"] + counts["quarantined"] == 1
