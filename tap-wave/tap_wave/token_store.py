"""The encrypted token store: where the current (rotated) refresh token and access token live.

Wave rotates refresh tokens: each refresh returns a new one and the old one stops working, so
the newest must survive the run. The store is one file holding a Fernet token (AES-128-CBC +
HMAC-SHA256, from `cryptography`) of a small JSON document; nothing in it is readable without
the key. Writes are atomic (temporary file, fsync, `os.replace`), and `lock()` returns an
inter-process file lock so concurrent runs refresh one at a time and share the result. The store
and its lock file are 0600: a lock file other local users can open is a lock they can hold,
stalling every refresh (an existing looser lock file is tightened).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from filelock import FileLock, Timeout

from tap_wave.errors import ConfigurationError, TokenStoreError

PRIVATE_MODE = 0o600
KEY_HELP = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())" and set it as TAP_WAVE_TOKEN_KEY (or token_key)'
)


def fingerprint(secret: str) -> str:
    """A one-way fingerprint of a secret (safe to store and to log)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class StoredTokens:
    """What the store holds."""

    refresh_token: str
    config_refresh_fingerprint: str
    """Fingerprint of the config refresh token this chain of rotations started from: a
    different refresh token in config means the user re-authorized, and it wins."""
    access_token: str | None = None
    expires_at: float = 0.0
    """Unix time at which the access token expires."""
    renew_after: float = 0.0
    """Unix time from which the access token is renewed (a margin before it expires)."""

    def access_token_usable(self, now: float | None = None) -> bool:
        current = time.time() if now is None else now
        return bool(self.access_token) and current < self.renew_after


class TokenStore:
    """An encrypted, atomically written, lockable token file."""

    def __init__(self, path: str | os.PathLike[str], key: str, *, lock_timeout: float = 120):
        self.path = Path(path).expanduser()
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError) as exc:
            msg = f"token_key (TAP_WAVE_TOKEN_KEY) is not a valid Fernet key; {KEY_HELP}"
            raise ConfigurationError(msg) from exc
        self._lock = FileLock(f"{self.path}.lock", timeout=lock_timeout, mode=PRIVATE_MODE)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's inter-process lock (reentrant within one process)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = Path(self._lock.lock_file)
        with contextlib.suppress(FileNotFoundError, PermissionError):  # not ours: its owner's
            if lock_file.stat().st_mode & 0o077:
                lock_file.chmod(PRIVATE_MODE)
        try:
            with self._lock:
                yield
        except Timeout as exc:
            msg = (
                f"token store {self.path}: another tap-wave run has held its lock for "
                f"{self._lock.timeout:.0f}s; check for a hung run, or remove {self._lock.lock_file}"
            )
            raise TokenStoreError(msg) from exc

    def load(self) -> StoredTokens | None:
        """The stored tokens, or None when the store does not exist yet."""
        try:
            sealed = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            document = json.loads(self._fernet.decrypt(sealed))
            return StoredTokens(**document)
        except InvalidToken as exc:
            msg = (
                f"token store {self.path} cannot be decrypted with the configured token_key "
                "(TAP_WAVE_TOKEN_KEY). Use the key it was written with; if that key is lost, "
                "delete the file and set a fresh refresh_token (re-authorize the Wave app)."
            )
            raise TokenStoreError(msg) from exc
        except (ValueError, TypeError) as exc:
            msg = f"token store {self.path} is damaged ({exc}); delete it and set refresh_token"
            raise TokenStoreError(msg) from exc

    def save(self, tokens: StoredTokens) -> None:
        """Replace the store atomically: readers see the old or the new file, never a mix."""
        sealed = self._fernet.encrypt(json.dumps(asdict(tokens)).encode())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(sealed)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, PRIVATE_MODE)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
