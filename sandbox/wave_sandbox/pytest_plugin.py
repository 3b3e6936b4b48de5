"""Pytest fixtures that start the Wave sandbox (registered through the pytest11 entry point).

``wave_sandbox``: one shared sandbox per test session (3 businesses, seed 7, small books). Tests
sharing it should not change data they did not create. ``wave_sandbox_factory``: call it with
sandbox options to start private sandboxes; all are stopped when the test ends.
"""

from __future__ import annotations

import contextlib

import pytest

from .testing import WaveSandbox, start_wave_sandbox

SESSION_SANDBOX_OPTIONS = {
    "businesses": 3,
    "seed": 7,
    "customers": 40,
    "vendors": 10,
    "products": 20,
    "invoices": 150,
    "estimates": 30,
}


@pytest.fixture(scope="session")
def wave_sandbox() -> WaveSandbox:
    with start_wave_sandbox(**SESSION_SANDBOX_OPTIONS) as sandbox:
        yield sandbox


@pytest.fixture
def wave_sandbox_factory():
    with contextlib.ExitStack() as stack:

        def start(**options) -> WaveSandbox:
            merged = {**SESSION_SANDBOX_OPTIONS, **options}
            return stack.enter_context(start_wave_sandbox(**merged))

        yield start
