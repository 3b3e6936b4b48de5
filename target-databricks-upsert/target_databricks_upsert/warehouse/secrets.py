"""Secret settings: decrypting `enc:` values and keeping plaintext out of messages.

A secret setting (`client_secret`, `access_token`) may be given as `enc:<Fernet token>`, the
secret encrypted (AES-128-CBC + HMAC-SHA256, `cryptography`'s Fernet) with a key held in the
environment variable `TARGET_DATABRICKS_UPSERT_SECRET_KEY`. Several comma-separated keys may be
set while rotating keys (the first encrypts, any decrypts). The plaintext only lives in memory:
`Secrets.scrub` replaces it (and its encrypted form) in any text that may reach a log.

    python -m target_databricks_upsert.warehouse.secrets new-key      # prints a key
    python -m target_databricks_upsert.warehouse.secrets encrypt      # reads a secret on stdin
"""

from __future__ import annotations

import getpass
import os
import sys

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from target_databricks_upsert.errors import TargetError

KEY_VARIABLE = "TARGET_DATABRICKS_UPSERT_SECRET_KEY"
PREFIX = "enc:"
MASK = "***"


class SecretError(TargetError):
    """A secret setting cannot be decrypted."""


def _cipher() -> MultiFernet | None:
    keys = [k.strip() for k in os.environ.get(KEY_VARIABLE, "").split(",") if k.strip()]
    if not keys:
        return None
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretError(
            f"{KEY_VARIABLE} is not a valid Fernet key (32 url-safe base64-encoded bytes); "
            "generate one with `python -m target_databricks_upsert.warehouse.secrets new-key`"
        ) from None


def encrypt(plaintext: str) -> str:
    """`enc:<token>` for `plaintext`, with the first key of `KEY_VARIABLE`."""
    cipher = _cipher()
    if cipher is None:
        raise SecretError(f"set {KEY_VARIABLE} to a Fernet key before encrypting a secret")
    return PREFIX + cipher.encrypt(plaintext.encode()).decode()


class Secrets:
    """The secret settings of one run, decrypted, and a scrubber for everything derived."""

    def __init__(self) -> None:
        self._hidden: set[str] = set()

    def reveal(self, setting: str, value: str | None) -> str | None:
        """The plaintext of a setting's value (decrypted if it starts with `enc:`)."""
        if not value:
            return value
        self._hidden.add(value)
        if not value.startswith(PREFIX):
            return value
        cipher = _cipher()
        if cipher is None:
            raise SecretError(
                f"setting {setting} is encrypted ({PREFIX}...) but {KEY_VARIABLE} is not set: "
                "export the key it was encrypted with"
            )
        try:
            plaintext = cipher.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretError(
                f"setting {setting} cannot be decrypted with the key(s) in {KEY_VARIABLE}: wrong "
                "key, or the value was altered; re-encrypt the secret with the current key"
            ) from None
        self._hidden.add(plaintext)
        return plaintext

    def scrub(self, text: str) -> str:
        """`text` with every secret (plain or encrypted) replaced by `***`."""
        for secret in sorted(self._hidden, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


def main(argv: list[str]) -> int:
    if argv[:1] == ["new-key"]:
        print(Fernet.generate_key().decode())
        return 0
    if argv[:1] == ["encrypt"]:
        plaintext = getpass.getpass("secret: ") if sys.stdin.isatty() else sys.stdin.read().strip()
        print(encrypt(plaintext))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
