"""429 storms and 5xx faults end in a complete, correct sync; endless failure in one error."""

from __future__ import annotations

from tap_wave.testing import access_config, sandbox_totals

SMALL = {
    "businesses": 2,
    "customers": 12,
    "vendors": 3,
    "products": 5,
    "invoices": 20,
    "estimates": 5,
}


def test_a_429_storm_ends_in_a_complete_sync(wave_sandbox_factory, tap):
    books = wave_sandbox_factory(**SMALL, rate_limit="6/1")
    run = tap.run(access_config(books, page_size=10))
    assert run.returncode == 0, run.stderr[-3000:]
    assert books.stats()["throttled"] > 0
    assert "HTTP 429 rate limited; retry" in run.stderr
    books.set_faults(rate_limit=None)  # so the check below is not throttled itself
    assert run.counts() == sandbox_totals(books)


def test_server_errors_and_stalls_end_in_a_complete_sync(wave_sandbox_factory, tap):
    books = wave_sandbox_factory(
        **SMALL, fault_rate=0.15, graphql_error_rate=0.25, stall_seconds=0.3
    )
    run = tap.run(access_config(books, max_retries=8))
    stats = books.stats()
    books.set_faults(fault_rate=0, graphql_error_rate=0)
    assert run.returncode == 0, run.stderr[-3000:]
    assert stats["faults"] > 0 and stats["graphql_errors"] > 0
    assert run.counts() == sandbox_totals(books)


def test_endless_failure_ends_with_one_clear_error(wave_sandbox_factory, tap):
    books = wave_sandbox_factory(**SMALL, fault_rate=1.0, stall_seconds=0.1)
    run = tap.run(access_config(books, max_retries=1))
    assert run.returncode == 1
    assert len(run.errors()) == 1
    assert "still failing after 1 retries" in run.errors()[0]
