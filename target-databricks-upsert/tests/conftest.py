"""Fixtures for the target's tests (helpers live in target_databricks_upsert.testing)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's DuckDB warehouse file goes."""
    return tmp_path / "warehouse.duckdb"
