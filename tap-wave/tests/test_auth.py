"""OAuth against the sandbox's rotating refresh tokens: shared store, expiry mid-run,
re-authorization, revocation."""

from __future__ import annotations

import time

import httpx
import pytest
from tap_wave.testing import TapRunner, oauth_config, sandbox_totals
from tap_wave.token_store import TokenStore

SMALL = {
    "businesses": 2,
    "customers": 8,
    "vendors": 2,
    "products": 4,
    "invoices": 16,
    "estimates": 4,
}
REFRESHED = "refreshed the Wave access token"


@pytest.fixture
def books(wave_sandbox_factory):
    return wave_sandbox_factory(**SMALL)


def test_two_concurrent_runs_with_one_token_store_both_succeed(books, tap, tmp_path, token_key):
    config = oauth_config(books, tmp_path / "tokens.enc", key="")
    del config["token_key"]  # the key comes from TAP_WAVE_TOKEN_KEY
    env = {"TAP_WAVE_TOKEN_KEY": token_key}
    first, second = tap.start(config, env=env), tap.start(config, env=env)
    runs = [TapRunner.finish(first), TapRunner.finish(second)]
    totals = sandbox_totals(books)
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.counts() == totals
    assert sum(run.stderr.count(REFRESHED) for run in runs) == 1, "one shared refresh"

    later = tap.run(config, env=env)
    assert later.returncode == 0, later.stderr[-3000:]


def test_an_access_token_expiring_mid_run_is_renewed(
    wave_sandbox_factory, tap, tmp_path, token_key
):
    books = wave_sandbox_factory(**SMALL, token_ttl=3600)
    config = oauth_config(
        books, tmp_path / "tokens.enc", token_key, requests_per_minute=300, page_size=5
    )
    process = tap.start(config)
    deadline = time.monotonic() + 60
    while books.stats()["requests"] < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    books.advance_clock(7200)
    run = TapRunner.finish(process)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "access token rejected by Wave; renewing it" in run.stderr
    assert run.stderr.count(REFRESHED) == 2
    assert run.counts() == sandbox_totals(books)


def test_a_refresh_token_set_after_re_authorizing_wins_over_the_store(
    books, tap, tmp_path, token_key
):
    store_path = tmp_path / "tokens.enc"
    config = oauth_config(books, store_path, token_key)
    assert tap.run(config).returncode == 0
    # The user re-authorizes: Wave issues a new refresh token, the stored one dies.
    stored = TokenStore(store_path, token_key).load()
    answer = httpx.post(
        books.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": stored.refresh_token,
            "client_id": books.client_id,
            "client_secret": books.client_secret,
        },
    ).json()
    config["refresh_token"] = answer["refresh_token"]

    run = tap.run(config)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "refresh_token in config is new" in run.stderr
    again = tap.run(config)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "refresh_token in config is new" not in again.stderr


def test_a_revoked_refresh_token_ends_with_one_clear_error(books, tap, tmp_path, token_key):
    config = oauth_config(books, tmp_path / "tokens.enc", token_key, refresh_token="revoked")
    run = tap.run(config)
    assert run.returncode == 1
    assert len(run.errors()) == 1
    assert "invalid_grant" in run.errors()[0]
    assert "Authorize the Wave application again" in run.errors()[0]
    assert "Traceback" not in run.stderr


def test_a_store_written_with_another_key_is_refused_clearly(books, tap, tmp_path, token_key):
    store_path = tmp_path / "tokens.enc"
    assert tap.run(oauth_config(books, store_path, token_key)).returncode == 0
    other_key = "x" * 43 + "="
    run = tap.run(oauth_config(books, store_path, other_key))
    assert run.returncode == 1
    assert run.errors() == [
        f"tap-wave: error: token store {store_path} cannot be decrypted "
        "with the configured token_key (TAP_WAVE_TOKEN_KEY). Use the key it "
        "was written with; if that key is lost, delete the file and set a "
        "fresh refresh_token (re-authorize the Wave app)."
    ]
