"""Unity Catalog volume staging as the connector drives it: ``PUT '<local>' INTO '/Volumes/…'``,
``GET '/Volumes/…' TO '<local>'`` and ``REMOVE '/Volumes/…'``.

The warehouse answers such a statement with a one-row "staging" result set (operation,
localFile, presignedUrl, headers); the connector then moves the bytes itself with an HTTP
PUT/GET/DELETE to the presigned URL, which this module signs (HMAC, short expiry) and serves.
Volume files live under ``<data-dir>/volumes/<catalog>/<schema>/<volume>/…``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa

from . import errors

URL_PREFIX = "/sandbox-files"
URL_TTL_SECONDS = 900

_STAGING_RE = re.compile(
    r"""^\s*(?:
        (?P<put>PUT)\s+'(?P<put_local>[^']*)'\s+INTO\s+'(?P<put_remote>[^']*)'(?P<overwrite>\s+OVERWRITE)?
      | (?P<get>GET)\s+'(?P<get_remote>[^']*)'\s+TO\s+'(?P<get_local>[^']*)'
      | (?P<remove>REMOVE)\s+'(?P<remove_remote>[^']*)'
    )\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


@dataclass
class StagingCommand:
    operation: str  # PUT | GET | REMOVE
    volume_path: str
    local_file: str | None
    overwrite: bool = False


def parse_staging(statement: str) -> StagingCommand | None:
    """The staging command in ``statement``, or None if it is not one."""
    m = _STAGING_RE.match(statement)
    if not m:
        return None
    if m.group("put"):
        return StagingCommand(
            "PUT", m.group("put_remote"), m.group("put_local"), bool(m.group("overwrite"))
        )
    if m.group("get"):
        return StagingCommand("GET", m.group("get_remote"), m.group("get_local"))
    return StagingCommand("REMOVE", m.group("remove_remote"), None)


_METHOD_FOR = {"PUT": "PUT", "GET": "GET", "REMOVE": "DELETE"}


class StagingArea:
    """Signs presigned URLs for volume files and performs the transfers they authorize."""

    def __init__(self, public_base_url: str):
        self.public_base_url = public_base_url.rstrip("/")
        self._key = secrets.token_bytes(32)

    def answer(self, command: StagingCommand, local_path: Path) -> pa.Table:
        """The staging result set for ``command`` (local_path: the volume file on disk)."""
        if command.operation == "PUT" and local_path.exists() and not command.overwrite:
            raise errors.DatabricksSQLError(
                "FILE_ALREADY_EXISTS",
                f"The file {command.volume_path} already exists. Add OVERWRITE to replace it.",
                "42000",
            )
        if command.operation == "GET" and not local_path.is_file():
            raise errors.DatabricksSQLError(
                "PATH_NOT_FOUND", f"Path does not exist: {command.volume_path}.", "42K03"
            )
        url = self.presign(_METHOD_FOR[command.operation], command.volume_path)
        return pa.table(
            {
                "operation": pa.array([command.operation], pa.string()),
                "localFile": pa.array([command.local_file], pa.string()),
                "presignedUrl": pa.array([url], pa.string()),
                "headers": pa.array([json.dumps({})], pa.string()),
            }
        )

    def presign(self, method: str, volume_path: str) -> str:
        expires = int(time.time()) + URL_TTL_SECONDS
        signature = self._sign(method, volume_path, expires)
        return (
            f"{self.public_base_url}{URL_PREFIX}{quote(volume_path)}"
            f"?expires={expires}&signature={signature}"
        )

    def verify(self, method: str, volume_path: str, expires: str, signature: str) -> str | None:
        """None if the URL authorizes ``method`` on ``volume_path`` now, else why not."""
        try:
            expiry = int(expires)
        except ValueError:
            return "malformed expiry"
        if expiry < time.time():
            return "presigned URL has expired"
        expected = self._sign(method, volume_path, expiry)
        if not hmac.compare_digest(expected, signature or ""):
            return f"signature does not match a {method} of {volume_path}"
        return None

    def _sign(self, method: str, volume_path: str, expires: int) -> str:
        message = f"{method}\n{volume_path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Store an uploaded file so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
