"""Id reconciliation finds hard deletes and silent invoice changes, and nothing else."""

from __future__ import annotations

from tap_wave.partition_state import decode_known, encode_known
from tap_wave.reconcile import invoice_fingerprint, reconcile


def test_ids_gone_from_wave_are_deleted_unless_just_emitted():
    outcome = reconcile(
        previous={"a": "", "b": "", "c": ""},
        emitted_now={"d": ""},
        listed=[("a", ""), ("d", "")],
        track_changes=False,
    )
    assert outcome.deleted == ["b", "c"]
    assert outcome.changed == []
    assert outcome.known == {"a": "", "d": ""}


def test_first_reconciliation_deletes_nothing():
    outcome = reconcile(
        previous=None, emitted_now={"x": ""}, listed=[("x", ""), ("y", "")], track_changes=True
    )
    assert outcome.deleted == []
    assert outcome.known == {"x": "", "y": ""}


def test_silent_changes_are_found_only_for_what_was_not_just_emitted():
    outcome = reconcile(
        previous={"i1": "sent", "i2": "sent", "i3": "paid"},
        emitted_now={"i2": "viewed"},
        listed=[("i1", "overdue"), ("i2", "overdue"), ("i3", "paid")],
        track_changes=True,
    )
    assert outcome.changed == ["i1"]
    assert outcome.known == {"i1": "overdue", "i2": "viewed", "i3": "paid"}


def test_untracked_changes_keep_what_the_warehouse_holds():
    outcome = reconcile(
        previous={"i1": "sent"}, emitted_now={}, listed=[("i1", "overdue")], track_changes=False
    )
    assert outcome.changed == []
    assert outcome.known == {"i1": "sent"}


def test_an_entity_deleted_during_the_run_is_deleted_next_run():
    first = reconcile(
        previous={"a": ""}, emitted_now={"b": ""}, listed=[("a", "")], track_changes=False
    )
    assert first.deleted == []
    second = reconcile(
        previous=first.known, emitted_now={}, listed=[("a", "")], track_changes=False
    )
    assert second.deleted == ["b"]


def test_invoice_fingerprint_moves_with_status_and_payments_only():
    base = {"id": "I", "status": "SENT", "total": "1", "payments": [{"id": "p1"}, {"id": "p2"}]}
    same = {**base, "total": "2", "payments": [{"id": "p2"}, {"id": "p1"}]}
    assert invoice_fingerprint(base) == invoice_fingerprint(same)
    assert invoice_fingerprint(base) != invoice_fingerprint({**base, "status": "OVERDUE"})
    assert invoice_fingerprint(base) != invoice_fingerprint({**base, "payments": [{"id": "p1"}]})


def test_known_ids_survive_the_state_round_trip_compactly():
    known = {f"QnVzaW5lc3M6MTIzNDU2Nzg5MDtJbnZvaWNlOj{n:06d}": "abcdef123456" for n in range(2000)}
    encoded = encode_known(known)
    assert decode_known(encoded) == known
    assert len(encoded) < len(str(known)) / 3
    assert decode_known(None) is None
