"""The in-memory books of every sandbox business, with id lookups and id allocation.

Records are plain dicts keyed by GraphQL field names (so graphql-core's default resolver reads
them directly); keys starting with ``_`` are internal (Decimals, dates, back-references).
"""

from __future__ import annotations

from .clock import SandboxClock
from .ids import decode_id, encode_child_id

# business list attribute for each child type name encoded in ids
COLLECTIONS = {
    "Customer": "_customers",
    "Vendor": "_vendors",
    "Product": "_products",
    "Account": "_accounts",
    "SalesTax": "_sales_taxes",
    "Invoice": "_invoices",
    "Estimate": "_estimates",
}


class Books:
    """All businesses, an id index over every record, and the sandbox clock."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.businesses: list[dict] = []
        self._by_id: dict[str, dict] = {}
        self._business_by_uuid: dict[str, dict] = {}

    # -- registration -------------------------------------------------------------------
    def add_business(self, business: dict) -> None:
        self.businesses.append(business)
        self._business_by_uuid[business["_uuid"]] = business
        self._by_id[business["id"]] = business

    def index(self, record: dict) -> dict:
        self._by_id[record["id"]] = record
        return record

    def unindex(self, record: dict) -> None:
        self._by_id.pop(record["id"], None)

    def new_id(self, business: dict, type_name: str) -> str:
        business["_next_number"] += 1
        return encode_child_id(business["_uuid"], type_name, business["_next_number"])

    # -- lookups ------------------------------------------------------------------------
    def business(self, business_id: str | None) -> dict | None:
        if business_id is None:
            return self.businesses[0] if self.businesses else None
        return self._by_id.get(business_id) if _is_business_id(business_id) else None

    def find(self, record_id: str, type_name: str, business: dict | None = None) -> dict | None:
        """The record with this id if it is of ``type_name`` (and of ``business`` when given)."""
        parts = decode_id(record_id) if isinstance(record_id, str) else None
        if parts is None or parts.type_name != type_name:
            return None
        record = self._by_id.get(record_id)
        if record is None:
            return None
        if business is not None and parts.business_uuid != business["_uuid"]:
            return None
        return record

    def owner_of(self, record_id: str) -> dict | None:
        parts = decode_id(record_id) if isinstance(record_id, str) else None
        return self._business_by_uuid.get(parts.business_uuid) if parts else None


def _is_business_id(business_id: str) -> bool:
    parts = decode_id(business_id)
    return parts is not None and parts.type_name == "Business"
