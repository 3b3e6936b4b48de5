"""singer-sdk stream maps work on tap-wave's records: drop a business, hash an e-mail."""

from __future__ import annotations

import hashlib

from tap_wave.testing import access_config


def test_stream_maps_filter_a_business_and_hash_emails(wave_sandbox, tap):
    kept, dropped = wave_sandbox.business_ids()[:2]
    maps = {
        "customers": {
            "email": "md5(email) if email else None",
            "__filter__": f"business_id != '{dropped}'",
        },
        "invoices": {"__filter__": f"business_id != '{dropped}'"},
    }
    plain = tap.run(access_config(wave_sandbox, business_ids=[kept, dropped]))
    mapped = tap.run(access_config(wave_sandbox, business_ids=[kept, dropped], stream_maps=maps))
    assert mapped.returncode == 0, mapped.stderr[-3000:]

    for stream in ("customers", "invoices"):
        assert {r["business_id"] for r in mapped.records[stream]} == {kept}
        assert mapped.ids(stream) == {
            r["id"] for r in plain.records[stream] if r["business_id"] == kept
        }
    assert {r["business_id"] for r in mapped.records["vendors"]} == {kept, dropped}
    emails = {r["id"]: r["email"] for r in plain.records["customers"] if r["email"]}
    assert emails
    for customer in mapped.records["customers"]:
        if customer["id"] in emails:
            assert customer["email"] == hashlib.md5(emails[customer["id"]].encode()).hexdigest()
