"""A stream's state for one business (its state partition): the only module that writes it.

Each per-business stream keeps, in the partition singer-sdk gives it (`business_id`):

- `replication_key` + `replication_key_value`: the bookmark, the newest `modified_at` read from
  Wave (`modifiedAtAfter` of the next run's window);
- `known_ids`: what earlier runs emitted (id -> fingerprint), compressed, for the id pass that
  finds hard deletes and silent changes (reconcile.py);
- `events_seq`: the last event of the relay's store the stream handled;
- `progress_markers`: what singer-sdk notes while records go by; dropped where the tap sets the
  bookmark itself (the window's end, or never in events mode).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

KnownIds = dict[str, str]
"""id -> fingerprint of what was last emitted for it ("" when only existence is tracked)."""

REPLICATION_KEY = "replication_key"
REPLICATION_KEY_VALUE = "replication_key_value"
KNOWN_IDS = "known_ids"
EVENTS_SEQ = "events_seq"
PROGRESS_MARKERS = "progress_markers"


def encode_known(known: KnownIds) -> str:
    """The state form of `known`: zlib-compressed JSON in base64 (ids share long prefixes)."""
    raw = json.dumps(known, separators=(",", ":"), sort_keys=True).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def decode_known(encoded: str | None) -> KnownIds | None:
    if not encoded:
        return None
    decoded = json.loads(zlib.decompress(base64.b64decode(encoded)))
    if not isinstance(decoded, dict):
        msg = f"{KNOWN_IDS} in the state is not an object of ids; remove it to list every id again"
        raise ValueError(msg)
    return {str(entity_id): str(print_) for entity_id, print_ in decoded.items()}


class PartitionState:
    """Reads and writes one partition's state: the dict singer-sdk keeps and emits in STATE."""

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    @property
    def events_seq(self) -> int:
        """The last event (`seq`) the stream handled; 0 before the first."""
        return int(self._state.get(EVENTS_SEQ) or 0)

    def event_handled(self, seq: int) -> None:
        """Move the events bookmark to `seq`, never backwards: a relay run may read an older
        event (re-queued from quarantine) after newer ones."""
        self._state[EVENTS_SEQ] = max(self.events_seq, seq)

    @property
    def known_ids(self) -> KnownIds | None:
        """What earlier runs emitted; None before the first id pass (or full read)."""
        return decode_known(self._state.get(KNOWN_IDS))

    @known_ids.setter
    def known_ids(self, known: KnownIds) -> None:
        self._state[KNOWN_IDS] = encode_known(known)

    def bookmark(self, replication_key: str, newest: str | None) -> None:
        """Resume after `newest` (modifiedAtAfter is exclusive); no record read: as it was.

        singer-sdk's progress markers are dropped: the bookmark is the window's newest record,
        never a record re-read or deleted after the window.
        """
        self.drop_progress_markers()
        if newest:
            self._state[REPLICATION_KEY] = replication_key
            self._state[REPLICATION_KEY_VALUE] = newest

    def drop_progress_markers(self) -> None:
        """Forget what singer-sdk noted from the records (events mode keeps the daily bookmark)."""
        self._state.pop(PROGRESS_MARKERS, None)
