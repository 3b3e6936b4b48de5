"""Rate limiting, injected HTTP faults and stalls, live fault changes and request statistics."""

from __future__ import annotations

import time

import httpx

SMALL = {
    "businesses": 1,
    "customers": 2,
    "invoices": 2,
    "estimates": 1,
    "products": 3,
    "vendors": 1,
}
QUERY = {"query": "query Me { user { id } }", "operationName": "Me"}


def send(sandbox, timeout: float = 10) -> httpx.Response:
    return httpx.post(
        sandbox.graphql_url,
        json=QUERY,
        timeout=timeout,
        headers={"Authorization": f"Bearer {sandbox.access_token}"},
    )


def test_rate_limit_answers_429_with_retry_after(wave_sandbox_factory):
    sandbox = wave_sandbox_factory(**SMALL, rate_limit="3/2")
    statuses = [send(sandbox).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    throttled = send(sandbox)
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 2
    time.sleep(int(throttled.headers["Retry-After"]))
    assert send(sandbox).status_code == 200
    stats = sandbox.stats()
    assert stats["throttled"] == 3 and stats["requests"] == 7
    assert stats["by_operation"] == {"Me": 7}


def fault_sequence(sandbox, count: int) -> list[int]:
    return [send(sandbox).status_code for _ in range(count)]


def test_faults_are_reproducible_from_the_seed(wave_sandbox_factory):
    first = wave_sandbox_factory(**SMALL, seed=5, fault_rate=0.5, stall_seconds=0)
    second = wave_sandbox_factory(**SMALL, seed=5, fault_rate=0.5, stall_seconds=0)
    sequence = fault_sequence(first, 30)
    assert sequence == fault_sequence(second, 30)
    assert set(sequence) <= {200, 500, 502, 503, 504}
    assert 200 in sequence and len(set(sequence) - {200}) >= 2
    assert first.stats()["faults"] == sum(1 for status in sequence if status != 200)


def test_stall_holds_the_connection_past_a_client_timeout(wave_sandbox_factory):
    sandbox = wave_sandbox_factory(**SMALL, stall_seconds=3)
    sandbox.set_faults(fault_rate=1)
    stalls = 0
    for _ in range(12):  # fault kinds are drawn at random; some of them stall
        try:
            status = send(sandbox, timeout=0.5).status_code
        except httpx.ReadTimeout:
            stalls += 1
        else:
            assert status in (500, 502, 503)
        if stalls:
            break
    assert stalls == 1


def test_faults_change_while_running(wave_sandbox_factory):
    sandbox = wave_sandbox_factory(**SMALL)
    assert send(sandbox).status_code == 200
    settings = sandbox.set_faults(fault_rate=1, stall_seconds=0)
    assert settings["fault_rate"] == 1
    assert all(send(sandbox).status_code in (500, 502, 503, 504) for _ in range(5))
    sandbox.set_faults(fault_rate=0, rate_limit="1/30")
    assert [send(sandbox).status_code for _ in range(2)] == [200, 429]
    sandbox.set_faults(rate_limit=None)
    assert send(sandbox).status_code == 200
    bad = httpx.post(sandbox.base_url + "/sandbox/faults", json={"fault_rate": 3}, timeout=10)
    assert bad.status_code == 400 and "between 0 and 1" in bad.json()["error"]
