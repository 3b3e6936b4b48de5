"""singer-sdk's standard target test suite, on the embedded DuckDB warehouse."""

from __future__ import annotations

import tempfile
from pathlib import Path

from singer_sdk.testing import get_target_test_class
from target_databricks_upsert.target import TargetDatabricksUpsert

_WAREHOUSE = Path(tempfile.mkdtemp(prefix="tdu-standard-")) / "standard.duckdb"

TestTargetDatabricksUpsert = get_target_test_class(
    TargetDatabricksUpsert, config={"duckdb_path": str(_WAREHOUSE)}
)
