"""singer-sdk's standard tap tests, run against the sandbox (a few records per stream)."""

from __future__ import annotations

import pytest
from singer_sdk.testing import SuiteConfig, TapTestRunner, get_tap_test_class
from tap_wave.tap import TapWave
from tap_wave.testing import access_config

SUITE = SuiteConfig(max_records_limit=10)
# Streams are known without a connection; the runner below points the sync at the sandbox.
_Standard = get_tap_test_class(TapWave, config={"access_token": "discovery-only"},
                               suite_config=SUITE)


class TestTapWaveStandard(_Standard):
    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, wave_sandbox) -> TapTestRunner:
        business = wave_sandbox.business_ids()[0]
        runner = TapTestRunner(TapWave, config=access_config(wave_sandbox, business_ids=[business]),
                               suite_config=SUITE)
        runner.sync_all()
        return runner
