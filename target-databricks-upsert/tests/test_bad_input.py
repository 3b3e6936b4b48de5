"""Input the target must refuse with one clear line (exit 1), writing nothing of the bad batch and
emitting no STATE for it: values that cannot be ordered, malformed messages, bytes that are not
UTF-8, and a failure while several streams are open (which must not abort the process)."""

from __future__ import annotations

import json
import subprocess

import pytest
from target_databricks_upsert.testing import (
    CLI,
    INVOICE_SCHEMA,
    cli_error,
    invoice,
    record_message,
    rows,
    run_cli,
    schema_message,
    state_message,
    write_config,
)

SCHEMA = schema_message("invoices", INVOICE_SCHEMA)
CUSTOMERS = schema_message(
    "customers",
    {
        "properties": {
            "business_id": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": ["string", "null"]},
        }
    },
)


def refused(warehouse, messages) -> str:
    """Run a first good batch (committed, STATE 1), then `messages`; return the error line after
    checking the bad input wrote nothing and advanced no STATE."""
    good = run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I0")),
            state_message({"bookmarks": {"n": 1}}),
        ],
    )
    assert [json.loads(line) for line in good.stdout.splitlines()] == [{"bookmarks": {"n": 1}}]
    before = rows(warehouse, "invoices")
    result = run_cli(
        warehouse,
        [
            SCHEMA,
            record_message("invoices", invoice("B1", "I1")),
            *messages,
            state_message({"bookmarks": {"n": 2}}),
        ],
        check=False,
    )
    line = cli_error(result)
    assert result.stdout.strip() == "", "no STATE may be emitted past the bad input"
    assert rows(warehouse, "invoices") == before
    return line


@pytest.mark.parametrize("extracted", ["2300-01-01T00:00:00Z", "1600-01-01T00:00:00Z"])
def test_an_extraction_time_sequence_cannot_order_is_an_error_not_a_wrap(tmp_path, extracted):
    line = refused(
        tmp_path / "w.duckdb",
        [record_message("invoices", invoice("B1", "I2"), extracted=extracted)],
    )
    assert line.startswith("invoices record (B1, I2): field time_extracted: ")
    assert extracted in line and "1677-09-21" in line and "2262-04-11" in line


def test_an_sdc_extracted_at_sequence_cannot_order_is_named(tmp_path):
    record = invoice("B1", "I2", _sdc_extracted_at="2262-04-12T00:00:00Z")
    line = refused(tmp_path / "w.duckdb", [record_message("invoices", record)])
    assert line.startswith("invoices record (B1, I2): field _sdc_extracted_at: ")


def test_a_wrapped_sequence_never_blocks_a_later_update(tmp_path):
    """Before the fix a record extracted in 1600 was written with a wrapped-around _sequence
    (larger than any real one), so every later real update lost the newer-wins guard: now that
    record is refused and the update loads."""
    warehouse = tmp_path / "w.duckdb"
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message(
                "invoices", invoice("B1", "I1", total="1"), extracted="1600-01-01T00:00:00Z"
            ),
        ],
        check=False,
    )
    run_cli(
        warehouse,
        [
            SCHEMA,
            record_message(
                "invoices", invoice("B1", "I1", total="2"), extracted="2024-06-01T00:00:00Z"
            ),
        ],
    )
    assert [str(r["total"]) for r in rows(warehouse, "invoices")] == ["2.000000"]


def test_an_sdc_sequence_beyond_bigint_is_named(tmp_path):
    record = invoice("B1", "I2", _sdc_sequence=2**70)
    line = refused(tmp_path / "w.duckdb", [record_message("invoices", record)])
    assert line.startswith("invoices record (B1, I2): field _sdc_sequence: 1180591620717411303424 ")
    assert "BIGINT" in line


def test_a_string_version_is_named(tmp_path):
    message = {**record_message("invoices", invoice("B1", "I2")), "version": "v2"}
    line = refused(tmp_path / "w.duckdb", [message])
    assert line.startswith("invoices record (B1, I2): field version: ")
    assert "'v2'" in line and "integer" in line


@pytest.mark.parametrize("record", [[1, 2], "text", 7])
def test_a_record_that_is_not_an_object_is_named(tmp_path, record):
    line = refused(
        tmp_path / "w.duckdb", [{"type": "RECORD", "stream": "invoices", "record": record}]
    )
    assert line.startswith("invoices: line 3 of the input: the RECORD's record is a JSON ")
    assert "not an object" in line


def test_input_that_is_not_utf8_names_the_line_stream_and_field(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    run_cli(warehouse, [SCHEMA, record_message("invoices", invoice("B1", "I0"))])
    bad = (
        json.dumps(record_message("invoices", invoice("B1", "I1")))
        .encode()
        .replace(b'"SENT"', b'"S\xffENT"')
    )
    text = (json.dumps(SCHEMA) + "\n").encode() + bad + b"\n"
    result = subprocess.run(
        [CLI, "--config", str(write_config(warehouse))],
        input=text,
        capture_output=True,
        timeout=120,
    )
    result.stderr, result.stdout = result.stderr.decode(), result.stdout.decode()
    line = cli_error(result)
    assert line.startswith("invoices: line 2 of the input is not valid UTF-8 (byte 0xff ")
    assert "field status" in line
    assert [r["id"] for r in rows(warehouse, "invoices")] == ["I0"]


def test_a_json_escaped_lone_surrogate_names_the_line_without_echoing_it(tmp_path):
    bad = json.dumps(record_message("invoices", invoice("B1", "I1", status="secret"))).replace(
        '"secret"', '"secret\\ud800"'
    )
    result = run_cli(tmp_path / "w.duckdb", json.dumps(SCHEMA) + "\n" + bad + "\n", check=False)
    line = cli_error(result)
    assert line.startswith("invoices: line 2 of the input is not valid JSON")
    assert "secret" not in result.stderr


def test_a_record_error_with_several_streams_open_exits_1_cleanly(tmp_path):
    """DuckDB used to abort the process (SIGABRT, exit 134) when the error left the warehouse
    open while the other stream's thread was still at work."""
    warehouse = tmp_path / "w.duckdb"
    messages = [SCHEMA, CUSTOMERS]
    for n in range(300):
        messages.append(
            record_message("customers", {"business_id": "B1", "id": f"C{n}", "name": "x"})
        )
        messages.append(record_message("invoices", invoice("B1", f"I{n}")))
    messages.append(record_message("invoices", invoice("B1", "I999", total="1,5")))
    messages.append(state_message({"bookmarks": {"n": 1}}))
    for _ in range(3):  # the abort depended on thread timing
        result = run_cli(warehouse, messages, check=False)
        line = cli_error(result)
        assert line.startswith("invoices record (B1, I999): field total: '1,5' is not a valid")
        assert result.stdout.strip() == ""
    assert rows(warehouse, "invoices") == []
