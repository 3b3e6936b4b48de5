"""Finding what Wave changes without a trace: hard deletes and silent invoice changes.

Wave deletes invoices, estimates, customers and invoice payments outright, and derives some
invoice statuses (OVERDUE) without bumping `modifiedAt`. After a stream's incremental pass, an
id pass lists every id (cheap: a few fields per node) and compares it with what the previous
runs emitted, which the tap keeps per business in its state (`known_ids`, partition_state.py):

- an id the tap emitted before that Wave no longer lists -> a deletion record;
- an invoice whose fingerprint (status + payment ids) moved -> re-read and emitted again.

Only the businesses of the current run are reconciled; others are never touched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tap_wave.partition_state import KnownIds


def invoice_fingerprint(node: Mapping[str, Any]) -> str:
    """Status and payment ids of an invoice (raw Wave node or shaped record alike)."""
    payments = sorted(p["id"] for p in node.get("payments") or [] if p and p.get("id"))
    digest = hashlib.sha1(json.dumps([node.get("status"), payments]).encode()).hexdigest()
    return digest[:12]


@dataclass
class Reconciliation:
    """The outcome of comparing an id pass with what earlier runs emitted."""

    deleted: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    known: KnownIds = field(default_factory=dict)


def reconcile(
    *,
    previous: KnownIds | None,
    emitted_now: KnownIds,
    listed: Iterable[tuple[str, str]],
    track_changes: bool,
) -> Reconciliation:
    """Compare the id pass (`listed`: id, fingerprint) with earlier and current emissions.

    `previous` is what earlier runs emitted (None before the first reconciliation), and
    `emitted_now` what this run's incremental pass emitted. The new `known` records what
    the warehouse now holds, so a change not re-read now is still noticed next time.
    """
    outcome = Reconciliation()
    listed_now = dict(listed)
    before = previous or {}
    for entity_id, print_now in listed_now.items():
        if entity_id in emitted_now:
            outcome.known[entity_id] = emitted_now[entity_id]
        elif track_changes and entity_id in before and before[entity_id] != print_now:
            outcome.changed.append(entity_id)
            outcome.known[entity_id] = print_now
        else:
            outcome.known[entity_id] = before.get(entity_id, print_now)
    for entity_id, print_then in emitted_now.items():
        outcome.known.setdefault(entity_id, print_then)  # emitted, then created/changed since
    outcome.deleted = sorted(set(before) - set(listed_now) - set(emitted_now))
    return outcome
