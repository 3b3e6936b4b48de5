"""The relay's Prometheus metrics, on a registry of its own (served at GET /metrics)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from webhook_relay.targeting import KNOWN_EVENT_TYPES

# An event type outside the contract is counted under this label, so that an authentic but odd
# sender cannot create one series per type it invents (the store keeps the real type).
OTHER_TYPE_LABEL = "other"

LATENCY_BUCKETS = (0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600, 1800)


class RelayMetrics:
    """Counters for receiving and acting; one instance per relay process."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(
        self, queue_depth: Callable[[], float], quarantined: Callable[[], float] = lambda: 0
    ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_received = Counter(
            "webhook_relay_events_received",
            "Authentic events stored for the first time, by event type ('other' outside the"
            " contract).",
            ["type"],
            registry=r,
        )
        self.unknown_event_types = Counter(
            "webhook_relay_events_unknown_type",
            "Authentic events whose type is not in the contract (stored all the same).",
            registry=r,
        )
        self.duplicates = Counter(
            "webhook_relay_events_duplicate",
            "Authentic deliveries of an event id that was already stored.",
            registry=r,
        )
        self.rejected = Counter(
            "webhook_relay_requests_rejected",
            "Requests answered with 4xx, by reason code.",
            ["reason"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "webhook_relay_queue_depth", "Stored events not yet loaded (pending).", registry=r
        )
        self.queue_depth.set_function(queue_depth)
        self.quarantined = Gauge(
            "webhook_relay_events_quarantined",
            "Events kept aside after failing alone repeatedly (webhook-relay events --quarantined).",
            registry=r,
        )
        self.quarantined.set_function(quarantined)
        self.quarantines = Counter(
            "webhook_relay_quarantines",
            "Events quarantined by this process (a re-queued event may count again).",
            registry=r,
        )
        self.runs_started = Counter(
            "webhook_relay_runs_started", "Targeted runs started.", registry=r
        )
        self.runs_warm_started = Counter(
            "webhook_relay_runs_warm_started",
            "Targeted runs handed to a meltano started ahead of time (Meltano already imported).",
            registry=r,
        )
        self.runs_with_cached_catalog = Counter(
            "webhook_relay_runs_with_cached_catalog",
            "Targeted runs given the tap's catalog discovered once (no discovery of their own).",
            registry=r,
        )
        self.runs_succeeded = Counter(
            "webhook_relay_runs_succeeded", "Targeted runs that exited 0.", registry=r
        )
        self.runs_failed = Counter(
            "webhook_relay_runs_failed",
            "Targeted runs that exited non-zero, could not start, or timed out.",
            registry=r,
        )
        self.event_to_load_seconds = Histogram(
            "webhook_relay_event_to_load_seconds",
            "From an event's arrival at the relay to the end of the run that loaded it.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def count_received(self, event_type: str) -> None:
        known = event_type in KNOWN_EVENT_TYPES
        self.events_received.labels(type=event_type if known else OTHER_TYPE_LABEL).inc()
        if not known:
            self.unknown_event_types.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
