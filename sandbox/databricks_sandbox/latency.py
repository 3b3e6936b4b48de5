"""The latency model: how long a statement takes on a real SQL warehouse, by its kind.

On DuckDB a statement costs milliseconds; on a Databricks SQL warehouse each one is a round trip
(compile, schedule, Unity Catalog calls, a Delta commit for a write). With the model on, every
statement waits the modelled time of its kind before it executes, and that wait is spent OUTSIDE
the warehouse's statement lock: statements still execute one at a time, but a client that submits
statements concurrently (on different tables) overlaps their latencies, as on a warehouse.

Kinds (``classify``): ``metadata`` (information_schema queries, SHOW, DESCRIBE, and the Thrift
metadata calls GetTables/GetColumns/...), ``ddl`` (CREATE/ALTER/DROP of schemas, tables, views,
catalogs), ``dml`` (MERGE, INSERT, UPDATE, DELETE, TRUNCATE, COPY INTO), ``staging`` (PUT, GET,
REMOVE, LIST and the volume commands), ``query`` (every other statement: SELECTs, USE, SET), and
``session`` (opening a session, once per connection).

Settings are written ``kind=seconds`` separated by commas (or lines, with ``#`` comments, in a
file); ``serverless`` stands for the documented figures of a warm serverless SQL warehouse
(``SERVERLESS``; the reasoning is in sandbox/README.md), later items override earlier ones, a
kind not named is 0 (``off`` = all 0). ``serverless,dml=3`` = those figures with slower MERGEs.
"""

from __future__ import annotations

import re
import threading
import time

from .catalog_commands import without_leading_comments

KINDS = ("metadata", "ddl", "dml", "staging", "query", "session")
SERVERLESS = {"metadata": 1.5, "ddl": 1.0, "dml": 1.5, "staging": 0.5, "query": 0.3, "session": 0.5}
"""A warm serverless SQL warehouse, seconds per statement (see sandbox/README.md, Latency)."""
PROFILES = {"serverless": SERVERLESS, "off": {}}

_FIRST_WORD = re.compile(r"[A-Za-z]+")
_VOLUME = re.compile(
    r"^(?:CREATE|DROP|ALTER)\s+(?:OR\s+REPLACE\s+)?(?:MANAGED\s+|EXTERNAL\s+)?"
    r"VOLUME\b",
    re.IGNORECASE,
)
_INFORMATION_SCHEMA = re.compile(r"\binformation_schema\b", re.IGNORECASE)
_BY_FIRST_WORD = {
    **dict.fromkeys(("PUT", "GET", "REMOVE", "LIST"), "staging"),
    **dict.fromkeys(("CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE"), "ddl"),
    **dict.fromkeys(("MERGE", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "COPY"), "dml"),
    **dict.fromkeys(("SHOW", "DESCRIBE", "DESC"), "metadata"),
}


def classify(statement: str) -> str:
    """The latency kind of a SQL statement (from its text, before it is parsed)."""
    text = without_leading_comments(statement)
    word = _FIRST_WORD.match(text)
    kind = _BY_FIRST_WORD.get(word.group(0).upper(), "query") if word else "query"
    if kind == "ddl" and _VOLUME.match(text):
        return "staging"
    if kind == "query" and _INFORMATION_SCHEMA.search(text):
        return "metadata"
    return kind


def parse_spec(text: str) -> dict[str, float]:
    """``serverless,dml=3`` / ``metadata=1.5,query=0.3`` / ``off`` -> seconds per kind (all
    kinds; unnamed ones 0). Raises ValueError naming what is wrong."""
    seconds = dict.fromkeys(KINDS, 0.0)
    items = [
        item.split("#", 1)[0].strip()
        for line in text.splitlines()
        for item in line.split("#", 1)[0].split(",")
    ]
    for item in filter(None, items):
        name, equals, value = (part.strip() for part in item.partition("="))
        if not equals:
            if name.lower() not in PROFILES:
                _unknown_profile(name)
            seconds = {**dict.fromkeys(KINDS, 0.0), **PROFILES[name.lower()]}
            continue
        seconds[_kind(name)] = _seconds(name, value)
    return seconds


def _unknown_profile(name: str):
    raise ValueError(
        f"latency: unknown profile {name!r}; profiles: {', '.join(PROFILES)}, or kind=seconds"
    )


def _kind(name: str) -> str:
    if name.lower() not in KINDS:
        raise ValueError(f"latency: unknown statement kind {name!r}; kinds: {', '.join(KINDS)}")
    return name.lower()


def _seconds(name: str, value) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"latency: {name} must be a number of seconds, got {value!r}") from None
    if not 0 <= seconds <= 600:
        raise ValueError(f"latency: {name} must be between 0 and 600 seconds, got {value!r}")
    return seconds


class LatencyModel:
    """Seconds per statement kind (thread-safe; changed at runtime by POST /sandbox/latency)."""

    def __init__(self, seconds: dict[str, float] | None = None):
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(KINDS, 0.0)
        self._seconds.update(seconds or {})

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._seconds)

    def replace(self, seconds: dict[str, float]) -> dict[str, float]:
        with self._lock:
            self._seconds = {**dict.fromkeys(KINDS, 0.0), **seconds}
            return dict(self._seconds)

    def update(self, changes: dict) -> dict[str, float]:
        """``{"dml": 2}`` changes some kinds; ``{"profile": "serverless"}`` (or "off") first
        replaces all of them, then the named kinds apply. Validated before anything changes."""
        changes = dict(changes)
        base = None
        if "profile" in changes:
            profile = str(changes.pop("profile")).lower()
            base = parse_spec(profile) if profile in PROFILES else _unknown_profile(profile)
        checked = {_kind(name): _seconds(name, value) for name, value in changes.items()}
        with self._lock:
            if base is not None:
                self._seconds = base
            self._seconds.update(checked)
            return dict(self._seconds)

    def seconds(self, kind: str) -> float:
        with self._lock:
            return self._seconds.get(kind, 0.0)

    def wait(self, kind: str) -> float:
        """Sleep the modelled time of ``kind`` (the caller holds no warehouse lock); return it."""
        seconds = self.seconds(kind)
        if seconds > 0:
            time.sleep(seconds)
        return seconds
