"""BATCH messages: the singer-sdk batch files a manifest names, read back as records.

A file is JSON Lines (one record per line) or Parquet, gzip-compressed or not; compression is
told from the file's first bytes, since the SDK's JSON Lines writer gzips whatever the message
says. Records come out as the RECORD path decodes them (JSON numbers as `Decimal`); Parquet rows
are passed through JSON so dates, timestamps and floats arrive as they would have in a RECORD.
They are yielded in chunks, so a file is never held in memory as Python objects at once.

A Parquet file lacking a column for one of the stream's properties is refused: the SDK's Parquet
writer infers a file's columns from its first record only, so such a file may have lost values
(a property absent from the first record, `_sdc_deleted_at` of a later deletion...), which the
target cannot tell from NULLs.

Each file's modification time stands for its records' extraction time (a BATCH message has no
`time_extracted`): the moment the tap finished writing them, the same for a rerun of the same
files, so replaying old files never wins over newer data.

Files are opened where the manifest says, or, when the target's `batch_config.storage` is set,
by name under its root (with its `params`), as the SDK does.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import io
from collections.abc import Iterator
from typing import IO, Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from target_databricks_upsert.errors import InputError
from target_databricks_upsert.reader import NOT_WRITTEN, describe_bad_line, json_kind

CHUNK = 1000
FORMATS = ("jsonl", "parquet")
COMPRESSIONS = (None, "none", "gzip")
GZIP_MAGIC = b"\x1f\x8b"

_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def read_batch(
    message: dict[str, Any],
    where: str,
    batch_config: dict[str, Any] | None,
    properties: list[str],
) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
    """(extraction time as ISO text or None, records) chunks of every file of a BATCH message,
    in manifest order. `where` names the message (e.g. `line 12 of the input`); `properties`
    are the top-level properties of the stream's schema."""
    stream = message["stream"]
    encoding, manifest = message["encoding"], message["manifest"]
    problem = _message_problem(encoding, manifest)
    if problem:
        raise InputError(f"{stream}: {where}: the BATCH message {problem}. {NOT_WRITTEN}")
    storage = (batch_config or {}).get("storage")
    for url in manifest:
        path = _path(url, storage)
        try:
            with path.open("rb") as file:
                extracted = _modified(path)
                if encoding["format"] == "jsonl":
                    for records in _jsonl(file, stream, url):
                        yield extracted, records
                else:
                    for records in _parquet(file, stream, url, properties):
                        yield extracted, records
        except (OSError, EOFError, gzip.BadGzipFile, pa.ArrowException) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(
                f"{stream}: {where}: cannot read BATCH file {url} as {encoding['format']} "
                f"({reason}); the tap's batch files must be readable where the target runs "
                f"(batch_config.storage). {NOT_WRITTEN}"
            ) from None


def _message_problem(encoding: object, manifest: object) -> str | None:
    if not isinstance(encoding, dict) or encoding.get("format") not in FORMATS:
        shown = encoding.get("format") if isinstance(encoding, dict) else encoding
        return f"has encoding format {shown!r}; this target reads {' and '.join(FORMATS)}"
    if encoding.get("compression") not in COMPRESSIONS:
        return f"has compression {encoding.get('compression')!r}; this target reads gzip or none"
    if not isinstance(manifest, list) or not all(isinstance(u, str) for u in manifest):
        return "manifest is not a list of file URLs"
    return None


def _path(url: str, storage: dict[str, Any] | None) -> UPath:
    if storage and storage.get("root"):
        root = UPath(storage["root"], **(storage.get("params") or {}))
        path: UPath = root.joinpath(UPath(url).name)
        return path
    return UPath(url)


def _modified(path: UPath) -> str | None:
    try:
        mtime = path.stat().st_mtime
    except (OSError, AttributeError, NotImplementedError):
        return None
    if isinstance(mtime, dt.datetime):
        moment = mtime if mtime.tzinfo else mtime.replace(tzinfo=dt.UTC)
    elif isinstance(mtime, int | float):
        moment = dt.datetime.fromtimestamp(mtime, tz=dt.UTC)
    else:
        return None
    return moment.isoformat()


def _uncompressed(file: IO[bytes]) -> IO[bytes] | gzip.GzipFile:
    head = file.read(2)
    file.seek(0)
    return gzip.GzipFile(fileobj=file, mode="rb") if head == GZIP_MAGIC else file


def _jsonl(file: IO[bytes], stream: str, url: str) -> Iterator[list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    for number, line in enumerate(_uncompressed(file), start=1):
        if not line.strip():
            continue
        try:
            record = _DECODER.decode(line)
        except msgspec.DecodeError as exc:
            raise InputError(
                describe_bad_line(
                    line.rstrip(b"\r\n"), f"line {number} of BATCH file {url}", exc, stream=stream
                )
            ) from None
        if not isinstance(record, dict):
            raise InputError(
                f"{stream}: line {number} of BATCH file {url}: the record is a JSON "
                f"{json_kind(record)}, not an object. "
                f"{NOT_WRITTEN}"
            )
        records.append(record)
        if len(records) >= CHUNK:
            yield records
            records = []
    if records:
        yield records


def _parquet(
    file: IO[bytes], stream: str, url: str, properties: list[str]
) -> Iterator[list[dict[str, Any]]]:
    source = _uncompressed(file)
    if isinstance(source, gzip.GzipFile):  # a gzipped Parquet file: Parquet needs to seek
        source = io.BytesIO(source.read())
    parquet = pq.ParquetFile(source)
    columns = set(parquet.schema_arrow.names)
    missing = [name for name in properties if name not in columns]
    if missing:
        raise InputError(
            f"{stream}: BATCH file {url} has no column for the stream's properties "
            f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}. The singer-sdk's "
            "Parquet batch writer keeps only the properties of each file's first record "
            "(pyarrow's Table.from_pylist), so later records' values of these may have been "
            "dropped, and loading them as NULL would overwrite good values. Use the jsonl "
            f"batch encoding (or write every property in every record). {NOT_WRITTEN}"
        )
    for batch in parquet.iter_batches(batch_size=CHUNK):
        try:
            yield _DECODER.decode(_ENCODER.encode(batch.to_pylist()))
        except (msgspec.EncodeError, TypeError, ValueError) as exc:
            raise InputError(
                f"{stream}: BATCH file {url}: a row cannot be read as JSON ({exc}). {NOT_WRITTEN}"
            ) from None
