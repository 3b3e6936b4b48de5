"""Pytest fixtures that start the Databricks SQL warehouse simulator.

``databricks_sandbox``: one shared sandbox per test session; tests sharing it should create
their own schemas and leave faults as they found them. ``databricks_sandbox_factory``: call it
with sandbox options (``token_ttl=5``, ``data_dir=...``) to start private sandboxes; all are
stopped when the test ends.
"""

from __future__ import annotations

import contextlib

import pytest

from .testing import DatabricksSandbox, start_databricks_sandbox


@pytest.fixture(scope="session")
def databricks_sandbox() -> DatabricksSandbox:
    with start_databricks_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def databricks_sandbox_factory():
    with contextlib.ExitStack() as stack:

        def start(**options) -> DatabricksSandbox:
            return stack.enter_context(start_databricks_sandbox(**options))

        yield start
