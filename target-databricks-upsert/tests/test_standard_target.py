"""singer-sdk's standard target test suite, on the embedded DuckDB warehouse.

The suite's config is fixed when the class is made, so the warehouse's directory is named then
(not created: collecting this file leaves nothing behind) and made and removed around the class
by the suite's `resource` fixture, the SDK's hook for external resources.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class
from target_databricks_upsert.target import TargetDatabricksUpsert

_DIRECTORY = Path(tempfile.gettempdir()) / f"tdu-standard-{uuid.uuid4().hex}"

_StandardTests = get_target_test_class(
    TargetDatabricksUpsert, config={"duckdb_path": str(_DIRECTORY / "standard.duckdb")}
)


# the SDK makes the suite's class at run time: mypy cannot check a base class made so
class TestTargetDatabricksUpsert(_StandardTests):  # type: ignore[misc,valid-type]
    @pytest.fixture(scope="class")
    def resource(self) -> Iterator[Path]:
        _DIRECTORY.mkdir()
        yield _DIRECTORY
        shutil.rmtree(_DIRECTORY)
