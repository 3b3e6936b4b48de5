"""What a targeted run covers and how it is started: event types -> tap streams -> command + env.

A run covers the events of one unit (narrowing.py: the fresh events, or a narrowed batch), their
businesses and only the tap streams those events touch (plus ``webhook_events``, which records
every event as received). It is handed to Meltano as:

    meltano --environment dev run --state-id-suffix relay --run-id <uuid> --force \\
        tap-wave target-databricks-upsert

with ``TAP_WAVE_BUSINESS_IDS`` (JSON list), ``TAP_WAVE__SELECT_FILTER`` (JSON list of streams,
Meltano's stream-level select extra), ``TAP_WAVE_EVENTS_DB`` (the store's path),
``TAP_WAVE_SYNC_MODE=events`` (the tap reads only what the events name) and
``WEBHOOK_RELAY_RUN_ID`` in its environment: the store marks the run's events with its id, and the
tap reads exactly those (so a batch narrowed after a failure, or an event re-queued from quarantine,
is read whatever the tap's bookmarks say). The command is a template so that deployments (and
tests) can run something else.

``--force``: the run holds the project's run lock, which every runner of this project takes, so no
other run of the state id can be going. Meltano's own check would otherwise refuse every run for
five minutes after a run was killed (its job row stays RUNNING until its heartbeat is stale).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from webhook_relay import defaults
from webhook_relay.store import PendingEvent
from webhook_relay.tap_streams import STREAM_BY_ENTITY as TAP_STREAM_BY_ENTITY

EVENTS_STREAM = "webhook_events"

# Entity prefix of an event type -> the tap stream that re-reads (or records) that entity:
# generated from tap-wave's stream classes (tap_streams.py says how), never imported from the tap.
STREAM_BY_ENTITY = TAP_STREAM_BY_ENTITY
STREAM_BY_TYPE = {"transaction.created": "transactions"}

KNOWN_EVENT_TYPES = frozenset(
    {
        *(f"invoice.{a}" for a in ("created", "updated", "approved", "sent", "paid", "deleted")),
        *(f"payment.{a}" for a in ("created", "updated", "deleted")),
        *(f"customer.{a}" for a in ("created", "updated", "deleted")),
        *(f"product.{a}" for a in ("created", "updated", "archived")),
        *(f"estimate.{a}" for a in ("created", "updated", "sent", "approved", "deleted")),
        "transaction.created",
    }
)

DEFAULT_RUN_COMMAND = (
    "{meltano_bin} --environment {environment} run --state-id-suffix {state_id_suffix}"
    " --run-id {run_id} --force tap-wave target-databricks-upsert"
)
TEMPLATE_FIELDS = ("meltano_bin", "environment", "state_id_suffix", "run_id", "project")


def stream_for_event_type(event_type: str) -> str | None:
    """The tap stream an event type touches, or None when it names no entity the tap reads.

    Any type of a known entity counts (``invoice.voided`` re-reads invoices), so that a type
    Wave adds later still refreshes its entity; ``webhook_events`` records it either way.
    """
    if event_type in STREAM_BY_TYPE:
        return STREAM_BY_TYPE[event_type]
    return STREAM_BY_ENTITY.get(event_type.partition(".")[0])


def streams_for_event_types(event_types: Iterable[str]) -> tuple[str, ...]:
    """Sorted streams for a set of event types; ``webhook_events`` is always among them."""
    streams = {EVENTS_STREAM}
    streams.update(s for s in map(stream_for_event_type, event_types) if s)
    return tuple(sorted(streams))


@dataclass(frozen=True)
class RunTarget:
    """The businesses and streams one run covers, and the newest event it answers for."""

    business_ids: tuple[str, ...]
    streams: tuple[str, ...]
    max_seq: int
    event_count: int


def target_for(events: Iterable[PendingEvent]) -> RunTarget:
    """The run that answers every given pending event (at least one)."""
    events = list(events)
    if not events:
        raise ValueError("a run needs at least one event")
    return RunTarget(
        business_ids=tuple(sorted({e.business_id for e in events})),
        streams=streams_for_event_types({e.type for e in events}),
        max_seq=max(e.seq for e in events),
        event_count=len(events),
    )


@dataclass(frozen=True)
class RunCommand:
    """How to start a run: a command template and the values its placeholders take."""

    template: str = DEFAULT_RUN_COMMAND
    meltano_bin: str = defaults.MELTANO_BIN
    environment: str = defaults.ENVIRONMENT
    state_id_suffix: str = defaults.STATE_ID_SUFFIX
    project: str = "."
    events_db: str = ""
    bytecode_cache: str = ""  # a directory: runs keep compiled bytecode there (PYTHONPYCACHEPREFIX)

    def __post_init__(self) -> None:
        if ":" in self.state_id_suffix:
            raise ValueError(
                f"state id suffix {self.state_id_suffix!r} contains ':', which Meltano forbids"
                " in state id components; choose e.g. 'relay'"
            )
        try:
            self.argv("00000000-0000-0000-0000-000000000000")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"run command template {self.template!r} is not usable ({exc}); placeholders"
                f" allowed: {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
            ) from exc

    def argv(self, run_id: str) -> list[str]:
        values = {
            "meltano_bin": self.meltano_bin,
            "environment": self.environment,
            "state_id_suffix": self.state_id_suffix,
            "run_id": run_id,
            "project": self.project,
        }
        argv = [token.format(**values) for token in shlex.split(self.template)]
        if not argv:
            raise ValueError("empty command")
        return argv

    @property
    def runs_meltano(self) -> bool:
        """Whether runs are the default ``meltano run`` (not a deployment's own command)."""
        return self.template == DEFAULT_RUN_COMMAND

    def environ(
        self, target: RunTarget, run_id: str, base: Mapping[str, str], catalog: str | None = None
    ) -> dict[str, str]:
        """The run's environment: ``base`` plus what narrows tap-wave to ``target`` (and the
        catalog discovered once, catalog_cache.py, when there is one)."""
        env = self.common_environ(base)
        env.update(
            {
                "TAP_WAVE_BUSINESS_IDS": json.dumps(list(target.business_ids)),
                "TAP_WAVE__SELECT_FILTER": json.dumps(list(target.streams)),
                "TAP_WAVE_EVENTS_DB": self.events_db,
                "TAP_WAVE_SYNC_MODE": "events",
                "WEBHOOK_RELAY_RUN_ID": run_id,
                "WEBHOOK_RELAY_MAX_SEQ": str(target.max_seq),
            }
        )
        if catalog:
            env["TAP_WAVE__CATALOG"] = catalog
        return env

    def common_environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """What every Meltano process of the relay gets: ``base``, the environment, and the
        bytecode cache."""
        env = dict(base)
        env["MELTANO_ENVIRONMENT"] = self.environment
        if self.bytecode_cache:
            # Every run starts meltano, the tap and the target anew; with compiled bytecode kept
            # between runs each starts in about half the time (the latency that matters here).
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = self.bytecode_cache
        return env
