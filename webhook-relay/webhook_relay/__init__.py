"""webhook_relay: verify signed Wave webhooks, store them durably, start targeted meltano runs.

Modules: signature (the contract's scheme), validation (what an event must be), schema (the
store's tables and the states they name), store (the SQLite event store's statements) and views
(its read-only views), app (HTTP endpoints), serving (timeouts and the connection cap), worker
(runs, one at a time), warm_start (the next run's meltano started ahead of time; warm_meltano,
the program that waits for the run), catalog_cache (the tap's catalog discovered once for the
runs), narrowing (which events a run covers, and where a failed run's events go: blame, splits,
evidence, probe, quarantine), targeting (event types -> streams -> command), runlock (the
project's run lock), runlogs (run logs, summaries, redaction), status_page (GET /status), metrics
(Prometheus), config (settings), defaults (every setting's default), cli and cli_events
(``webhook-relay``), testing (start the real relay from tests and bench scripts; test support,
never imported by the rest).
"""
