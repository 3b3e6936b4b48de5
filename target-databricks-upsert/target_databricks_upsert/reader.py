"""Reading Singer messages: msgspec decoding (JSON numbers become `Decimal`), line by line, and
one clear error naming the line (and the stream and field where they can be told) for a line
that is not UTF-8 or not JSON, instead of the decoder's raw message (which also echoed the line,
data and all).

Standard input is read as UTF-8 whatever the locale, with undecodable bytes kept as escapes, so
that a bad byte is reported here with its line rather than by the stream's decoder.
"""

from __future__ import annotations

import decimal
import io
import re
import sys
from typing import Any

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecReader

from target_databricks_upsert.compat import override
from target_databricks_upsert.errors import InputError

_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)
_STREAM = re.compile(r'"stream"\s*:\s*"([^"\\]{1,200})"')
NOT_WRITTEN = (
    "Nothing from the batch it was in was written and the state was not advanced; "
    "fix the tap's output and rerun."
)


def utf8_stdin() -> io.TextIOWrapper:
    """Standard input as UTF-8 text, undecodable bytes kept (as surrogate escapes) for the
    reader to report with their line."""
    return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape")


class SingerInputReader(MsgSpecReader):
    """The SDK's msgspec reader, counting lines and naming the bad one."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0

    @override
    def deserialize_json(self, line: str) -> dict[str, Any]:
        self.line_number += 1
        try:
            message: dict[str, Any] = _DECODER.decode(line)
            return message
        except (msgspec.DecodeError, UnicodeEncodeError) as exc:
            raise InputError(
                describe_bad_line(line, f"line {self.line_number} of the input", exc)
            ) from None


def describe_bad_line(
    line: str | bytes, where: str, exc: Exception, stream: str | None = None
) -> str:
    """`<stream>: <where> is not valid UTF-8 (byte 0x.. at offset n, field f)` or `... is not
    valid JSON (<reason>)`, never the line itself (it may hold data that must not reach logs).

    A line is a Singer message, or with `stream` given a record (a line of a BATCH file)."""
    if isinstance(line, bytes):
        raw = line
    else:  # undecodable bytes come back as they were; any other lone surrogate stays invalid
        raw = line.encode("utf-8", "surrogateescape" if _only_escapes(line) else "surrogatepass")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        repaired = raw.decode("utf-8", "replace")
        message = _parsed(repaired)
        record = message if stream else (message or {}).get("record")
        field = _field_with(record, "\ufffd")
        stream = stream or (message or {}).get("stream") or _stream_in(repaired)
        detail = f"byte 0x{raw[bad.start]:02x} at offset {bad.start}"
        if field:
            detail += f", field {field}"
        return f"{_prefix(stream)}{where} is not valid UTF-8 ({detail}). {NOT_WRITTEN}"
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    stream = stream or _stream_in(raw.decode("utf-8"))
    return f"{_prefix(stream)}{where} is not valid JSON ({reason}). {NOT_WRITTEN}"


def _only_escapes(text: str) -> bool:
    """Whether every surrogate in `text` is a surrogate escape of an undecodable byte."""
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def _parsed(text: str) -> dict[str, Any] | None:
    try:
        message = _DECODER.decode(text)
    except (msgspec.DecodeError, UnicodeEncodeError):
        return None
    return message if isinstance(message, dict) else None


def _stream_in(text: str) -> str | None:
    found = _STREAM.search(text)
    return found.group(1) if found else None


def _prefix(stream: object) -> str:
    return f"{stream}: " if isinstance(stream, str) and stream else ""


def _field_with(value: object, marker: str, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in `value` containing `marker`."""
    if isinstance(value, str):
        return (path or None) if marker in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if marker in str(key):
                return inner
            found = _field_with(item, marker, inner)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _field_with(item, marker, f"{path}[{index}]")
            if found:
                return found
    return None


def json_kind(value: object) -> str:
    """The JSON type of a decoded value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "number"
