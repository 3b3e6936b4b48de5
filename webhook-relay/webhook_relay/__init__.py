"""webhook_relay: verify signed Wave webhooks, store them durably, start targeted meltano runs.

Modules: signature (the contract's scheme), store (SQLite event store), app (HTTP endpoints),
worker (coalescing, runs, retries), targeting (event types -> streams -> command), runlock (the
project's run lock), metrics (Prometheus), config (settings), cli (``webhook-relay``), testing
(start the real relay from tests and bench scripts).
"""
