"""Repository-wide pytest set-up: the longest test files first.

`make test` runs the suite in several workers that take whole files in collection order
(`--dist loadfile`); a long end-to-end file collected late leaves one worker busy while the
others are done. These go first (each file's tests keep their order); the rest follow as
collected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parent
LONGEST_FIRST = (
    "tests/test_month_end_on_databricks.py",
    "tests/test_month_end_close.py",
    "tests/test_relay_poison_end_to_end.py",
    "tests/test_chaos.py",
    "tests/test_third_party_targets.py",
    "tests/test_daily_schedule.py",
    "tests/test_relay_crash_end_to_end.py",
    "target-databricks-upsert/tests/test_failures.py",
    "tests/test_month_end_dbt.py",
    "tests/test_ping_real_systems.py",
    "tests/test_relay_end_to_end.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}

    def place(item: pytest.Item) -> int:
        try:
            path = item.path.relative_to(ROOT).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(path, len(rank))

    items.sort(key=place)
