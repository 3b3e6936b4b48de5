"""The encrypted token store keeps secrets unreadable, writes atomically, and says what to do
when the key is wrong."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from cryptography.fernet import Fernet
from tap_wave.errors import ConfigurationError, TokenStoreError
from tap_wave.token_store import StoredTokens, TokenStore, fingerprint

SECRET_REFRESH = "refresh-SECRET-1234"
SECRET_ACCESS = "access-SECRET-5678"


def tokens() -> StoredTokens:
    return StoredTokens(
        refresh_token=SECRET_REFRESH,
        access_token=SECRET_ACCESS,
        config_refresh_fingerprint=fingerprint("from-config"),
        expires_at=time.time() + 3600,
        renew_after=time.time() + 3300,
    )


def test_round_trip_and_no_plaintext_on_disk(tmp_path):
    path = tmp_path / "tokens.enc"
    store = TokenStore(path, Fernet.generate_key().decode())
    assert store.load() is None
    saved = tokens()
    store.save(saved)
    raw = path.read_bytes()
    assert SECRET_REFRESH.encode() not in raw
    assert SECRET_ACCESS.encode() not in raw
    assert b"from-config" not in raw
    assert store.load() == saved
    assert path.stat().st_mode & 0o077 == 0, "store must be readable by its owner only"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.enc"], "no temporary left"


def test_a_wrong_key_is_reported_with_what_to_do(tmp_path):
    path = tmp_path / "tokens.enc"
    TokenStore(path, Fernet.generate_key().decode()).save(tokens())
    with pytest.raises(TokenStoreError, match="cannot be decrypted with the configured token_key"):
        TokenStore(path, Fernet.generate_key().decode()).load()


def test_a_malformed_key_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="not a valid Fernet key; generate one"):
        TokenStore(tmp_path / "t.enc", "my password")


def test_a_tampered_store_is_refused(tmp_path):
    path = tmp_path / "tokens.enc"
    store = TokenStore(path, Fernet.generate_key().decode())
    store.save(tokens())
    sealed = bytearray(path.read_bytes())
    sealed[40] ^= 1
    path.write_bytes(bytes(sealed))
    with pytest.raises(TokenStoreError):
        store.load()


def test_access_token_is_renewed_from_renew_after():
    stored = tokens()
    stored.expires_at, stored.renew_after = 1000.0, 940.0
    assert stored.access_token_usable(now=900)
    assert not stored.access_token_usable(now=950)


def _hold_lock(path: str, key: str, held: multiprocessing.Event, release: multiprocessing.Event):
    with TokenStore(path, key).lock():
        held.set()
        release.wait(10)


def test_the_lock_is_shared_between_processes(tmp_path):
    key = Fernet.generate_key().decode()
    path = str(tmp_path / "tokens.enc")
    held, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(path, key, held, release))
    holder.start()
    try:
        assert held.wait(10)
        with (
            pytest.raises(TokenStoreError, match="another tap-wave run has held its lock"),
            TokenStore(path, key, lock_timeout=0.2).lock(),
        ):
            pass
    finally:
        release.set()
        holder.join(10)
    with TokenStore(path, key, lock_timeout=5).lock():
        pass
