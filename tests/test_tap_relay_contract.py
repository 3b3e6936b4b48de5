"""The webhook relay starts runs of the tap's streams by name without importing the tap: its
entity table is generated from the tap's stream classes, and its other names must match them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import webhook_relay
import webhook_relay.tap_streams
from tap_wave import relay_table
from tap_wave.streams import (
    STREAM_TYPES,
    WebhookEventsStream,
    stream_by_entity,
    stream_by_event_type,
)
from webhook_relay import targeting


def test_the_relays_entity_table_is_the_one_the_stream_classes_make(tmp_path):
    written = Path(webhook_relay.tap_streams.__file__).read_text(encoding="utf-8")
    assert written == relay_table.render(), (
        f"webhook-relay/webhook_relay/tap_streams.py is out of date: run {relay_table.COMMAND}"
    )
    assert stream_by_entity() == targeting.STREAM_BY_ENTITY
    assert targeting.STREAM_BY_ENTITY["payment"] == "invoices"  # payments live in invoices

    # the command the file says to run writes exactly that
    target = tmp_path / "tap_streams.py"
    done = subprocess.run(
        [sys.executable, "-m", "tap_wave.relay_table", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == written


def test_every_event_type_the_relay_knows_reaches_the_stream_that_answers_it():
    streams = {stream.name: stream for stream in STREAM_TYPES}
    for event_type in sorted(targeting.KNOWN_EVENT_TYPES):
        name = targeting.stream_for_event_type(event_type)
        assert name in streams, (event_type, name)
        answers = streams[name]
        assert (
            event_type.partition(".")[0] in answers.event_entities
            or event_type in answers.event_types
        ), f"{event_type} targets {name}, which does not read it"
    assert stream_by_event_type() == targeting.STREAM_BY_TYPE
    assert WebhookEventsStream.name == targeting.EVENTS_STREAM


def test_the_relay_imports_nothing_of_the_tap():
    # every import statement of the relay's package, those inside functions too
    package = Path(webhook_relay.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert package / "targeting.py" in sources
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            tap = [name for name in names if name.split(".")[0] == "tap_wave"]
            assert not tap, f"{source.name} imports {tap}"
