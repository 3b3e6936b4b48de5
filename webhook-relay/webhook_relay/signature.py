"""The webhook signature scheme (webhook-relay/README.md, "The contract"), kept in this one module.

Header ``x-wave-signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``; each ``v1`` is the lowercase
hex HMAC-SHA256 of ``b"<t>." + raw body`` keyed with a webhook secret. A request is authentic when
any ``v1`` matches any secret the receiver holds (current, and previous during a rotation), and
its timestamp lies within the tolerance of the receiver's clock, in the past or in the future.

If Wave's real scheme turns out different, this is the only module to change.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from webhook_relay import defaults

SIGNATURE_HEADER = "x-wave-signature"
SIGNATURE_SCHEME = "v1"

# Bounds on what a header may hold, so that a hostile header cannot make us compute much.
_MAX_HEADER_CHARS = 4096
_MAX_SIGNATURES = 8
_HEX_DIGITS = frozenset("0123456789abcdef")
_SIGNATURE_HEX_LENGTH = hashlib.sha256().digest_size * 2


class Rejection(StrEnum):
    """Why a request is not authentic; the value is the reason code that is logged and counted."""

    MISSING_SIGNATURE = "missing_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    SIGNATURE_MISMATCH = "signature_mismatch"
    TIMESTAMP_EXPIRED = "timestamp_expired"
    TIMESTAMP_IN_FUTURE = "timestamp_in_future"


class SignatureRejected(Exception):
    """The request failed verification; ``reason`` says why, nothing of the request is kept."""

    def __init__(self, reason: Rejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class SignatureHeader:
    """A parsed ``x-wave-signature`` header."""

    timestamp: int
    signatures: tuple[str, ...]


def parse_signature_header(value: str | None) -> SignatureHeader:
    """Parse ``t=...,v1=...``; unknown keys are ignored, a missing or repeated ``t`` is malformed."""
    if value is None or not value.strip():
        raise SignatureRejected(Rejection.MISSING_SIGNATURE)
    if len(value) > _MAX_HEADER_CHARS:
        raise SignatureRejected(Rejection.MALFORMED_SIGNATURE)
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, sep, field = item.strip().partition("=")
        if not sep:
            raise SignatureRejected(Rejection.MALFORMED_SIGNATURE)
        key, field = key.strip(), field.strip()
        if key == "t":
            if timestamp is not None or not field.isascii() or not field.isdigit():
                raise SignatureRejected(Rejection.MALFORMED_SIGNATURE)
            timestamp = int(field)
        elif key == SIGNATURE_SCHEME:
            signatures.append(field.lower())
    if timestamp is None or not signatures or len(signatures) > _MAX_SIGNATURES:
        raise SignatureRejected(Rejection.MALFORMED_SIGNATURE)
    return SignatureHeader(timestamp=timestamp, signatures=tuple(signatures))


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` value for ``body`` sent at ``timestamp``, signed with ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _is_signature_shaped(candidate: str) -> bool:
    return len(candidate) == _SIGNATURE_HEX_LENGTH and set(candidate) <= _HEX_DIGITS


@dataclass(frozen=True)
class SignatureVerifier:
    """Verifies raw request bodies against the secrets the relay holds."""

    secrets: tuple[str, ...]
    tolerance_seconds: int = defaults.TOLERANCE_SECONDS

    def __post_init__(self) -> None:
        if not any(self.secrets):
            raise ValueError("SignatureVerifier needs at least one non-empty webhook secret")
        object.__setattr__(self, "secrets", tuple(s for s in self.secrets if s))

    def verify(self, header_value: str | None, body: bytes, now: float) -> SignatureHeader:
        """Return the parsed header when authentic, else raise ``SignatureRejected``.

        The signature is checked before the timestamp, so ``timestamp_expired`` and
        ``timestamp_in_future`` are reported only for requests that were really signed by Wave
        (an old delivery or a replay, or a clock off by more than the tolerance).
        """
        header = parse_signature_header(header_value)
        candidates = [c for c in header.signatures if _is_signature_shaped(c)]
        matched = False
        for secret in self.secrets:
            expected = compute_signature(secret, header.timestamp, body).encode("ascii")
            for candidate in candidates:
                matched |= hmac.compare_digest(expected, candidate.encode("ascii"))
        if not matched:
            raise SignatureRejected(Rejection.SIGNATURE_MISMATCH)
        # Compared as numbers, never subtracted: ``t`` may have hundreds of digits (an int that
        # no float can hold), and Python compares int with float exactly.
        if header.timestamp < now - self.tolerance_seconds:
            raise SignatureRejected(Rejection.TIMESTAMP_EXPIRED)
        if header.timestamp > now + self.tolerance_seconds:
            raise SignatureRejected(Rejection.TIMESTAMP_IN_FUTURE)
        return header
