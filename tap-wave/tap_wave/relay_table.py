"""The webhook relay's table of which tap stream answers each webhook entity, generated here.

The relay must not import the tap when it runs, so it keeps the table as a module of its own,
written from the stream classes' `event_entities` (streams.py):

    python -m tap_wave.relay_table webhook-relay/webhook_relay/tap_streams.py

The repository's tests/test_tap_relay_contract.py fails while that file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tap_wave.streams import stream_by_entity

COMMAND = "python -m tap_wave.relay_table webhook-relay/webhook_relay/tap_streams.py"


def render() -> str:
    """The relay's module, as the stream classes make it (formatted as ruff formats it)."""
    rows = "".join(
        f'    "{entity}": "{stream}",\n' for entity, stream in stream_by_entity().items()
    )
    return (
        '"""Which tap-wave stream re-reads (or records) the entity each webhook names: generated\n'
        "from tap-wave's stream classes (their `event_entities`), do not edit. After changing a\n"
        f"stream, run `{COMMAND}`\n"
        "(tests/test_tap_relay_contract.py fails while this file is out of date).\n"
        '"""\n'
        "\n"
        "STREAM_BY_ENTITY: dict[str, str] = {\n"
        f"{rows}"
        "}\n"
        '"""Entity prefix of an event type (`invoice` of `invoice.paid`) -> the tap stream."""\n'
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write(f"usage: {COMMAND}\n")
        return 2
    path = Path(argv[0])
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
