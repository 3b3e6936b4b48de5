"""Offset pagination, sorting and common filters for Wave's ``*Connection`` list fields.

Wave pages with ``page`` (1-based) and ``pageSize`` and answers ``pageInfo {currentPage totalPages
totalCount}``. Sorts are lists of enum values applied left to most significant; ties keep creation
order, so every sort is a total order and pages partition the set exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from .clock import iso_datetime, parse_datetime
from .errors import bad_user_input


def check_paging(page: int, page_size: int, page_size_max: int) -> None:
    if page is None or page < 1:
        raise bad_user_input(f"Argument 'page' must be 1 or more; got {page}.")
    if page_size is None or page_size < 1:
        raise bad_user_input(f"Argument 'pageSize' must be 1 or more; got {page_size}.")
    if page_size > page_size_max:
        raise bad_user_input(
            f"Argument 'pageSize' is {page_size}, above the maximum of {page_size_max}; "
            f"request at most {page_size_max} per page."
        )


def connection(records: list, page: int, page_size: int) -> dict:
    """One page of ``records`` as a connection: ``{edges: [{node}], pageInfo}``."""
    start = (page - 1) * page_size
    return {
        "edges": [{"node": record} for record in records[start : start + page_size]],
        "pageInfo": {
            "currentPage": page,
            "totalPages": math.ceil(len(records) / page_size),
            "totalCount": len(records),
        },
    }


def sorted_by(
    records: Iterable[dict], sort: list[str] | str | None, keys: dict[str, Callable[[dict], object]]
) -> list[dict]:
    """Apply a Wave sort list (e.g. ``[MODIFIED_AT_ASC, NAME_DESC]``) as a stable multi-key sort."""
    ordered = list(records)
    values = [sort] if isinstance(sort, str) else list(sort or [])
    for value in reversed(values):
        field, _, direction = value.rpartition("_")
        ordered.sort(key=keys[field], reverse=direction == "DESC")
    return ordered


def datetime_argument(name: str, value: str | None) -> str | None:
    """Normalize a DateTime argument to the canonical string the records store (for comparing)."""
    if value is None:
        return None
    try:
        return iso_datetime(parse_datetime(str(value)))
    except ValueError:
        raise bad_user_input(
            f"Argument '{name}' is not an ISO-8601 date-time: {value!r} "
            "(expected e.g. 2026-01-31T12:00:00.000Z)."
        ) from None


def modified_between(records: Iterable[dict], after: str | None, before: str | None) -> list:
    """``modifiedAtAfter`` / ``modifiedAtBefore``: both bounds exclusive."""
    after = datetime_argument("modifiedAtAfter", after)
    before = datetime_argument("modifiedAtBefore", before)
    return [
        r
        for r in records
        if (after is None or r["modifiedAt"] > after)
        and (before is None or r["modifiedAt"] < before)
    ]


def archived_filter(records: Iterable[dict], is_archived: bool | None) -> list:
    """``isArchived``: null means no filter."""
    if is_archived is None:
        return list(records)
    return [r for r in records if r["isArchived"] == is_archived]


CREATED_MODIFIED_NAME_KEYS = {
    "CREATED_AT": lambda r: r["createdAt"],
    "MODIFIED_AT": lambda r: r["modifiedAt"],
    "NAME": lambda r: r["name"].lower(),
}
