"""Wave-style opaque global IDs: base64 of ``Business:<uuid>`` or ``Business:<uuid>;<Type>:<n>``."""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple


class WaveId(NamedTuple):
    business_uuid: str
    type_name: str  # "Business" for a business id itself
    number: str  # the business uuid again for a business id


def encode_business_id(business_uuid: str) -> str:
    return base64.b64encode(f"Business:{business_uuid}".encode()).decode()


def encode_child_id(business_uuid: str, type_name: str, number: int | str) -> str:
    raw = f"Business:{business_uuid};{type_name}:{number}"
    return base64.b64encode(raw.encode()).decode()


def decode_id(wave_id: str) -> WaveId | None:
    """Split an id into its parts; None when it is not an id this sandbox could have issued."""
    try:
        raw = base64.b64decode(wave_id.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    head, _, child = raw.partition(";")
    kind, _, business_uuid = head.partition(":")
    if kind != "Business" or not business_uuid:
        return None
    if not child:
        return WaveId(business_uuid, "Business", business_uuid)
    type_name, _, number = child.partition(":")
    if not type_name or not number:
        return None
    return WaveId(business_uuid, type_name, number)
