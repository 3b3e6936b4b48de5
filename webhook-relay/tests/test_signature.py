"""The signature scheme in process: parsing ``x-wave-signature`` and verifying bodies.

The subprocess tests (test_receiving.py, test_door.py) post to a real relay; these call
``webhook_relay.signature`` directly, with a fixed clock, and sign with the tests' own signer
(conftest.py), written from the contract without the module under test.
"""

from __future__ import annotations

import pytest
from webhook_relay.signature import (
    Rejection,
    SignatureHeader,
    SignatureRejected,
    SignatureVerifier,
    compute_signature,
    parse_signature_header,
)

NOW = 1_764_331_200  # a fixed clock: 2025-11-28T12:00:00Z
HEX = "0123456789abcdef" * 4  # signature-shaped: 64 lowercase hex digits


def rejection(call, *args: object) -> Rejection:
    with pytest.raises(SignatureRejected) as raised:
        call(*args)
    assert str(raised.value) == raised.value.reason.value
    return raised.value.reason


# -- parsing -------------------------------------------------------------------------------------


def test_parses_timestamp_and_signature():
    assert parse_signature_header(f"t={NOW},v1={HEX}") == SignatureHeader(NOW, (HEX,))


def test_keys_in_any_order_with_spaces_and_unknown_keys_ignored():
    header = f" v1 = {HEX} , scheme=ignored,  t={NOW}, v0=old "
    assert parse_signature_header(header) == SignatureHeader(NOW, (HEX,))


def test_several_signatures_kept_in_order_and_lowercased():
    other = "f" * 64
    header = f"t={NOW},v1={HEX.upper()},v1={other},v1=short"
    assert parse_signature_header(header).signatures == (HEX, other, "short")


def test_a_timestamp_of_hundreds_of_digits_is_read_whole():
    huge = "9" * 400
    assert parse_signature_header(f"t={huge},v1={HEX}").timestamp == int(huge)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_header_is_missing(header):
    assert rejection(parse_signature_header, header) is Rejection.MISSING_SIGNATURE


@pytest.mark.parametrize(
    "header",
    [
        f"v1={HEX}",  # no t
        f"t={NOW}",  # no v1
        f"t={NOW},t={NOW},v1={HEX}",  # t twice
        f"t=soon,v1={HEX}",  # t not a number
        f"t=-5,v1={HEX}",  # nor signed
        f"t=1.5,v1={HEX}",  # nor a fraction
        f"t=\u0661\u0662,v1={HEX}",  # digits, but not ASCII ones
        f"t=,v1={HEX}",  # empty t
        f"t={NOW},v1",  # an item without '='
        f"t={NOW},,v1={HEX}",  # an empty item
        "sha256=abc",  # another scheme altogether
        f"t={NOW}," + ",".join([f"v1={HEX}"] * 9),  # more than 8 signatures
        f"t={NOW},v1={HEX},x={'a' * 4096}",  # longer than 4,096 characters
    ],
    ids=[
        "no t", "no v1", "t twice", "t a word", "t signed", "t a fraction", "t non-ascii",
        "t empty", "item without =", "empty item", "other scheme", "9 signatures", "too long",
    ],
)  # fmt: skip
def test_malformed_headers(header):
    assert rejection(parse_signature_header, header) is Rejection.MALFORMED_SIGNATURE


def test_eight_signatures_are_allowed():
    header = f"t={NOW}," + ",".join([f"v1={HEX}"] * 8)
    assert len(parse_signature_header(header).signatures) == 8


# -- verifying -----------------------------------------------------------------------------------


@pytest.fixture
def verifier(webhook_secrets) -> SignatureVerifier:
    """The relay's verifier during a rotation: the current and the previous secret."""
    return SignatureVerifier((webhook_secrets["current"], webhook_secrets["previous"]), 300)


@pytest.fixture
def body(new_event) -> bytes:
    return new_event(business_id="biz-unit", event_id="evt_unit_1")


def test_compute_signature_matches_the_contract(signer, webhook_secrets, body):
    independent = signer(body, secret=webhook_secrets["current"], timestamp=NOW)
    assert independent == f"t={NOW},v1={compute_signature(webhook_secrets['current'], NOW, body)}"


@pytest.mark.parametrize("skew", [-300, -250, 0, 250, 300])
def test_authentic_within_the_tolerance_either_way(verifier, signer, body, skew):
    header = signer(body, timestamp=NOW + skew)
    expected = SignatureHeader(NOW + skew, (header.split("v1=")[1],))
    assert verifier.verify(header, body, NOW) == expected


@pytest.mark.parametrize(
    ("skew", "reason"),
    [(-301, Rejection.TIMESTAMP_EXPIRED), (301, Rejection.TIMESTAMP_IN_FUTURE)],
)
def test_authentic_outside_the_tolerance(verifier, signer, body, skew, reason):
    assert rejection(verifier.verify, signer(body, timestamp=NOW + skew), body, NOW) is reason


def test_a_fractional_clock_is_compared_exactly(verifier, signer, body):
    """``t`` = now - 300 is on the boundary at ``NOW``, half a second past it at ``NOW + 0.5``."""
    header = signer(body, timestamp=NOW - 300)
    assert verifier.verify(header, body, NOW).timestamp == NOW - 300
    assert rejection(verifier.verify, header, body, NOW + 0.5) is Rejection.TIMESTAMP_EXPIRED


def test_previous_secret_is_accepted(verifier, signer, webhook_secrets, body):
    header = signer(body, secret=webhook_secrets["previous"], timestamp=NOW)
    assert verifier.verify(header, body, NOW).timestamp == NOW


def test_any_of_several_signatures_may_match(verifier, signer, body):
    right = signer(body, timestamp=NOW).split("v1=")[1]
    wrong = signer(body, secret="gone", timestamp=NOW).split("v1=")[1]
    header = f"v1={wrong},v1=not-hex,t={NOW},v1={right.upper()}"
    assert verifier.verify(header, body, NOW).signatures[-1] == right


@pytest.mark.parametrize(
    "case", ["wrong secret", "tampered body", "other timestamp", "truncated", "not hex"]
)
def test_signatures_that_do_not_match(verifier, signer, body, case):
    good = signer(body, timestamp=NOW).split("v1=")[1]
    header, sent = {
        "wrong secret": (signer(body, secret="not-the-secret", timestamp=NOW), body),
        "tampered body": (signer(body, timestamp=NOW), body + b" "),
        "other timestamp": (f"t={NOW - 1},v1={good}", body),
        "truncated": (f"t={NOW},v1={good[:-1]}", body),
        "not hex": (f"t={NOW},v1={'z' * 64}", body),
    }[case]
    assert rejection(verifier.verify, header, sent, NOW) is Rejection.SIGNATURE_MISMATCH


def test_signature_is_checked_before_the_timestamp(verifier, signer, body):
    """A forged request never learns whether its timestamp would have passed."""
    forged = signer(body, secret="not-the-secret", timestamp=NOW - 10_000)
    assert rejection(verifier.verify, forged, body, NOW) is Rejection.SIGNATURE_MISMATCH
    huge = int("9" * 400)
    authentic = signer(body, timestamp=huge)
    assert rejection(verifier.verify, authentic, body, NOW) is Rejection.TIMESTAMP_IN_FUTURE


def test_a_malformed_header_is_rejected_before_any_signature_is_computed(verifier, body):
    assert rejection(verifier.verify, None, body, NOW) is Rejection.MISSING_SIGNATURE
    assert rejection(verifier.verify, "t=1", body, NOW) is Rejection.MALFORMED_SIGNATURE


def test_verifier_needs_a_secret_and_drops_empty_ones():
    with pytest.raises(ValueError, match="at least one non-empty webhook secret"):
        SignatureVerifier(("", ""))
    assert SignatureVerifier(("", "s3cret")).secrets == ("s3cret",)
