"""The lock files the relay's runs depend on are the project user's alone (issue 13).

flock needs only a descriptor open for reading: a lock file any local user can read is a lock any
local user can take, stalling every run (`run.lock`) or every token refresh (tap-wave's token
store lock) with nothing logged. Both are created 0600, and one left 0644 by an earlier version is
tightened before use. The relay's own files are covered in webhook-relay/tests/test_resources.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from tap_wave.token_store import StoredTokens, TokenStore

RELAY_BIN = Path(sys.executable).parent / "webhook-relay"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_token_store_and_its_lock_are_private(tmp_path):
    store = TokenStore(tmp_path / "tokens.enc", Fernet.generate_key().decode())
    with store.lock():
        store.save(StoredTokens(refresh_token="r-1", config_refresh_fingerprint="f"))
        assert mode(tmp_path / "tokens.enc.lock") == 0o600
    assert mode(tmp_path / "tokens.enc") == 0o600
    assert store.load().refresh_token == "r-1"


def test_an_existing_world_readable_token_lock_is_tightened(tmp_path):
    lock_file = tmp_path / "tokens.enc.lock"
    lock_file.touch()
    lock_file.chmod(0o644)
    store = TokenStore(tmp_path / "tokens.enc", Fernet.generate_key().decode())
    with store.lock():
        assert mode(lock_file) == 0o600


def test_locked_run_creates_and_tightens_a_private_run_lock(tmp_path):
    project = tmp_path / "project"
    command = [str(RELAY_BIN), "locked-run", "--meltano-project", str(project), "--", "true"]
    assert subprocess.run(command, check=False, timeout=30).returncode == 0
    lock_file = project / ".meltano" / "run.lock"
    assert mode(lock_file) == 0o600
    lock_file.chmod(0o644)  # as an earlier version left it
    assert subprocess.run(command, check=False, timeout=30).returncode == 0
    assert mode(lock_file) == 0o600
