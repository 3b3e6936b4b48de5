"""The places where the target leans on singer-sdk code that is not a public hook.

singer-sdk has no public hook for a record's path, a BATCH or an ACTIVATE_VERSION message, or for
wrapping a whole run, so target.py overrides those private (or final) methods and calls one
private method. Each SDK method's source is pinned here: when singer-sdk changes one, this test
fails naming the method and what to re-check in target.py, and once that is done the new hash is
pinned. Every other override is of a public hook, and every override is marked `@override`.
"""

from __future__ import annotations

import hashlib
import inspect

import pytest
from singer_sdk import Target
from singer_sdk.sinks import Sink
from target_databricks_upsert.reader import SingerInputReader
from target_databricks_upsert.sink import UpsertSink
from target_databricks_upsert.target import TargetDatabricksUpsert
from target_databricks_upsert.warehouse.databricks import DatabricksWarehouse
from target_databricks_upsert.warehouse.duckdb import DuckDBWarehouse

PINNED = {
    "_process_record_message": (
        "08aaf4096e2d39e7",
        "TargetDatabricksUpsert._process_record_message / _buffer_record replace it: re-check "
        "that they still do everything the SDK's does per record (stream maps, the missing-"
        "schema error, the key check, tally_record_read, draining a full sink, the max record "
        "age) except what the sink does per batch (validation, datetime parsing, _sdc metadata, "
        "record_counter_metric)",
    ),
    "_process_batch_message": (
        "f26fbe519745daf2",
        "TargetDatabricksUpsert._process_batch_message replaces it (a BATCH's records take the "
        "RECORD path): re-check how the SDK now reads the message (encoding, manifest, "
        "batch_config) and the max record age it checks",
    ),
    "_process_activate_version_message": (
        "377950028ca9b3eb",
        "TargetDatabricksUpsert._process_activate_version_message replaces it (drains the "
        "stream's sinks first): re-check the stream-map loop and the "
        "process_activate_version_messages switch",
    ),
    "_handle_max_record_age": (
        "5762750ab1035404",
        "TargetDatabricksUpsert._buffer_record calls it every AGE_CHECK_EVERY records: re-check "
        "it still takes no arguments and drains every sink past the max age",
    ),
    "listen": (
        "5bdc6bfc69145dcd",
        "TargetDatabricksUpsert.listen overrides it (a final method) to wrap the run "
        "(runtime.lean_arrow, runtime.relaxed_gc, UTF-8 stdin, the warehouse closed on error): "
        "re-check it still reads the input (process_lines) then calls process_endofpipe",
    ),
    "process_lines": (
        "3442243efb20c07d",
        "it hands each message type to the _process_*_message methods the target overrides: "
        "re-check those names and signatures, or the SDK's own record path runs instead",
    ),
}


def _fingerprint(method_name: str) -> str:
    source = inspect.getsource(getattr(Target, method_name))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@pytest.mark.parametrize("method_name", sorted(PINNED))
def test_the_sdk_methods_the_target_leans_on_are_unchanged(method_name):
    pinned, recheck = PINNED[method_name]
    found = _fingerprint(method_name)
    assert found == pinned, (
        f"singer-sdk's Target.{method_name} changed (source hash {found}, pinned {pinned}): "
        f"{recheck}; then pin {found!r} in {__name__}.PINNED."
    )


@pytest.mark.parametrize(
    "cls",
    [TargetDatabricksUpsert, UpsertSink, SingerInputReader, DuckDBWarehouse, DatabricksWarehouse],
)
def test_every_override_is_marked(cls):
    """A method that replaces one of a base class is marked `@override` (so a type checker
    says when the base method goes away or changes its signature)."""
    unmarked = []
    for name, value in vars(cls).items():
        function = value.__func__ if isinstance(value, classmethod | staticmethod) else value
        if isinstance(function, property):
            function = function.fget
        if not inspect.isfunction(function) or name.startswith("__"):
            continue
        overrides = any(name in vars(base) for base in cls.__mro__[1:])
        if overrides and not getattr(function, "__override__", False):
            unmarked.append(name)
    assert not unmarked, f"{cls.__name__}: mark {unmarked} with @override (compat.override)"


def test_the_sink_is_an_sdk_sink():
    """The seams above hold only while the target's sinks are the SDK's (`drain_one` and the
    tallies are the SDK's)."""
    assert issubclass(UpsertSink, Sink)
