"""Bad settings, unknown businesses and rejected tokens end the run with one clear message;
settings also come from TAP_WAVE_* environment variables."""

from __future__ import annotations

import json

import pytest
from singer_sdk.exceptions import ConfigValidationError
from tap_wave.tap import TapWave
from tap_wave.testing import access_config


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "no Wave credentials: set access_token"),
        ({"access_token": "t", "client_id": "c"}, "set either access_token or client_id"),
        ({"client_id": "c", "client_secret": "s"}, "missing: refresh_token"),
        (
            {"client_id": "c", "client_secret": "s", "refresh_token": "r"},
            "OAuth needs token_store_path",
        ),
        (
            {
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": "r",
                "token_store_path": "x",
                "token_key": "not a key",
            },
            "not a valid Fernet key; generate one with",
        ),
    ],
)
def test_incomplete_credentials_end_with_one_clear_error(wave_sandbox, tap, settings, message):
    run = tap.run({"api_url": wave_sandbox.graphql_url, **settings}, env={"TAP_WAVE_TOKEN_KEY": ""})
    assert run.returncode == 1
    assert len(run.errors()) == 1
    assert message in run.errors()[0]
    assert "Traceback" not in run.stderr


def test_an_invalid_setting_is_reported_by_name(wave_sandbox, tap):
    run = tap.run(access_config(wave_sandbox, page_size=0))
    assert run.returncode == 1
    assert "page_size" in run.stderr
    assert "Config validation failed" in run.stderr


def test_an_unknown_business_id_ends_with_one_clear_error(wave_sandbox, tap):
    run = tap.run(access_config(wave_sandbox, business_ids=["QnVzaW5lc3M6bm9wZQ=="]))
    assert run.returncode == 1
    assert run.errors() == [
        "tap-wave: error: business_ids: QnVzaW5lc3M6bm9wZQ== is not a business this token can "
        f"see (it sees 3: {', '.join(sorted(wave_sandbox.business_ids()))}); fix business_ids "
        "or use a token with access to that business"
    ]
    assert not run.records


def test_a_rejected_access_token_ends_with_one_clear_error(wave_sandbox, tap):
    run = tap.run(access_config(wave_sandbox, access_token="revoked"))
    assert run.returncode == 1
    assert len(run.errors()) == 1
    assert "Wave rejected the access_token" in run.errors()[0]


def test_settings_from_the_environment(wave_sandbox, tap):
    business = wave_sandbox.business_ids()[2]
    run = tap.run(
        None,
        env={
            "TAP_WAVE_ACCESS_TOKEN": wave_sandbox.access_token,
            "TAP_WAVE_API_URL": wave_sandbox.graphql_url,
            "TAP_WAVE_BUSINESS_IDS": json.dumps([business]),
            "TAP_WAVE_REQUESTS_PER_MINUTE": "60000",
            "TAP_WAVE_PAGE_SIZE": "20",
        },
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert {r["business_id"] for rows in run.records.values() for r in rows} == {business}


def test_numbers_given_as_text_in_a_config_file_are_read_as_numbers(wave_sandbox, tap):
    business = wave_sandbox.business_ids()[2]
    settings = access_config(wave_sandbox, business_ids=[business])
    run = tap.run({**settings, "page_size": "20", "requests_per_minute": "60000"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert {r["business_id"] for rows in run.records.values() for r in rows} == {business}

    tapped = TapWave(config={"access_token": "t", "page_size": "20", "max_retries": "3"})
    assert (tapped.config["page_size"], tapped.config["max_retries"]) == (20, 3)
    with pytest.raises(ConfigValidationError) as invalid:
        TapWave(config={"access_token": "t", "page_size": "twenty"})
    assert invalid.value.errors == [
        "'twenty' is not of type 'integer', 'null' in config['page_size']"
    ]
