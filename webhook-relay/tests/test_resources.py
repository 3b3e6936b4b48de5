"""Resource defects of issue 13: idle connections cannot exhaust the relay's descriptors, slow
headers and bodies are cut off, and the files other local users could use against it are 0600."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import stat
import time

import httpx
import pytest

IDLE_CONNECTIONS = 1100
DESCRIPTOR_LIMIT = 1024  # the relay's (a common default): fewer than the idle connections


@pytest.fixture
def enough_descriptors():
    """This test process holds the idle connections: give it room for them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_CONNECTIONS + 512
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail(f"the test needs {wanted} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that send nothing, or half a request's headers (slowloris)."""
    sockets = []
    for n in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        if n % 2:
            conn.sendall(b"POST /webhooks/wave HTTP/1.1\r\nHost: relay\r\n")
        sockets.append(conn)
    return sockets


def closed_by_server(conn: socket.socket) -> bool:
    conn.settimeout(0.05)
    try:
        return conn.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_1100_idle_connections_do_not_stop_the_relay(
    relay_factory, new_event, enough_descriptors, eventually
):
    relay = relay_factory(start=False)
    relay.descriptor_limit = DESCRIPTOR_LIMIT
    relay.start("--debounce", "0.2", "--max-wait", "1")  # the default header timeout: 10 s
    idle = open_idle(relay.port, IDLE_CONNECTIONS)
    try:
        for _ in range(3):
            answer = httpx.get(f"{relay.url}/healthz", timeout=5)
            assert answer.status_code == 200
        body = new_event(business_id="biz-under-siege")
        answer = relay.post(body)
        assert answer.status_code == 202
        eventually(
            lambda: [e["state"] for e in relay.events()] == ["done"], what="the signed event loaded"
        )
        # Idle ones are closed: by eviction for new connections, else after the header timeout.
        eventually(
            lambda: all(closed_by_server(c) for c in idle),
            timeout=30,
            what="every idle connection closed by the relay",
        )
    finally:
        for conn in idle:
            with contextlib.suppress(OSError):
                conn.close()
    log = relay.log()
    assert "Too many open files" not in log
    assert "out of system resource" not in log
    assert len(log.splitlines()) < 40, log[-3000:]


def test_headers_sent_slowly_are_cut_off(relay_factory):
    relay = relay_factory("--header-timeout", "1.5")
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as conn:
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 6:
            try:
                conn.sendall(
                    b"X-Slow: a\r\n"
                    if time.monotonic() - started > 0.1
                    else b"POST /webhooks/wave HTTP/1.1\r\nHost: relay\r\n"
                )
            except OSError:
                closed = True
                break
            if closed_by_server(conn):
                closed = True
                break
            time.sleep(0.3)
        elapsed = time.monotonic() - started
    assert closed and 1.2 < elapsed < 4, elapsed


def test_a_body_that_stalls_gets_408(relay_factory, signer):
    relay = relay_factory("--body-timeout", "1")
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as conn:
        conn.sendall(
            b"POST /webhooks/wave HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json"
            b'\r\nx-wave-signature: t=1,v1=00\r\nContent-Length: 100\r\n\r\n{"id": '
        )
        started = time.monotonic()
        answer = conn.recv(4096)
        elapsed = time.monotonic() - started
        conn.settimeout(5)
        while chunk := conn.recv(4096):  # the rest of the answer, then the close
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert answer.endswith(b'{"error":"body_timeout"}')
        assert 0.8 < elapsed < 5


def test_keep_alive_connection_idle_after_a_response_is_closed(relay_factory):
    relay = relay_factory("--header-timeout", "1")
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        answer = conn.recv(4096)
        while not answer.endswith(b"}"):  # headers and body may come in two reads
            answer += conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 ")
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request's headers never finish
        conn.settimeout(6)
        started = time.monotonic()
        assert conn.recv(4096) == b""
        assert time.monotonic() - started < 4


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_store_logs_and_run_lock_are_private(relay_factory, new_event, eventually):
    relay = relay_factory(start=False)
    lock_file = relay.project / ".meltano" / "run.lock"
    lock_file.parent.mkdir(parents=True)
    lock_file.touch(mode=0o644)  # left by an older relay
    os.chmod(lock_file, 0o644)
    relay.start("--debounce", "0.1", "--max-wait", "1")
    assert relay.post(new_event(business_id="biz-private")).status_code == 202
    eventually(lambda: relay.runs() and relay.runs()[-1]["status"] == "succeeded", what="a run")
    assert mode(relay.db) == 0o600
    assert mode(relay.db.parent) == 0o700
    for companion in (f"{relay.db}-wal", f"{relay.db}-shm"):
        assert mode(companion) == 0o600, companion
    assert mode(lock_file) == 0o600
    logs = list((relay.db.parent / "run-logs").iterdir())
    assert logs and all(mode(log) == 0o600 for log in logs)
    assert mode(relay.db.parent / "run-logs") == 0o700


def test_an_existing_world_readable_store_is_tightened(relay_factory, tmp_path):
    relay = relay_factory(start=False)
    relay.db.parent.mkdir(parents=True)
    relay.db.touch()
    os.chmod(relay.db, 0o644)
    relay.start()
    assert mode(relay.db) == 0o600
