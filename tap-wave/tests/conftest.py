"""Fixtures of tap-wave's tests; the sandbox fixtures come from the sandbox's pytest plugin."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from tap_wave.testing import TapRunner


@pytest.fixture
def tap(tmp_path) -> TapRunner:
    """Runs the real `tap-wave` command in a temporary directory."""
    return TapRunner(tmp_path)


@pytest.fixture
def token_key() -> str:
    """A fresh token store key."""
    return Fernet.generate_key().decode()
