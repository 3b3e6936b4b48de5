"""A stand-in for `meltano run` that the relay starts in tests: records what it got, then exits.

Appends a "start" line (argv, cwd, TAP_WAVE_*/MELTANO_*/WEBHOOK_RELAY_*/PYTHON* cache env, the
events it answers for, read from TAP_WAVE_EVENTS_DB as the tap reads them (those marked with
WEBHOOK_RELAY_RUN_ID), whether the project's run lock is held) and an "end" line with its exit
code to $RELAY_TEST_RECORD. $RELAY_TEST_CONTROL (JSON) says how long to sleep, how many of the
first runs fail, which event ids or businesses make a run fail (`poison_ids`,
`poison_businesses`: a bad record, a business the token cannot see), and what a failing run
prints (`output`, with `{ids}` replaced by the poisoned ids it found, `{first}` by the first).
"""

import contextlib
import fcntl
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

record_path = Path(os.environ["RELAY_TEST_RECORD"])
control = json.loads(Path(os.environ["RELAY_TEST_CONTROL"]).read_text())


def append(entry: dict) -> None:
    with open(record_path, "a") as record:
        record.write(json.dumps(entry) + "\n")
        record.flush()
        os.fsync(record.fileno())


def lock_is_held() -> bool:
    """Another open of run.lock cannot take it while the run holds it."""
    fd = os.open(Path.cwd() / ".meltano" / "run.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def pending_events() -> list[dict]:
    """The events this run answers for, as the tap finds them."""
    db = os.environ.get("TAP_WAVE_EVENTS_DB")
    if not db:
        return []
    businesses = json.loads(os.environ["TAP_WAVE_BUSINESS_IDS"])
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT id, business_id, type FROM events WHERE run_id = ?"
            " AND business_id IN (SELECT value FROM json_each(?)) ORDER BY seq",
            (os.environ["WEBHOOK_RELAY_RUN_ID"], json.dumps(businesses)),
        ).fetchall()
    return [{"id": i, "business_id": b, "type": t} for i, b, t in rows]


previous_starts = 0
if record_path.exists():
    previous_starts = sum(
        '"phase": "start"' in line for line in record_path.read_text().splitlines()
    )
events = pending_events()
poisoned = [
    e["id"]
    for e in events
    if e["id"] in control.get("poison_ids", ())
    or e["business_id"] in control.get("poison_businesses", ())
]
exit_code = 3 if previous_starts < control.get("fail_runs", 0) or poisoned else 0
prefixes = (
    "TAP_WAVE",
    "MELTANO_",
    "WEBHOOK_RELAY_",
    "PYTHONPYCACHEPREFIX",
    "PYTHONDONTWRITEBYTECODE",
)
append(
    {
        "phase": "start",
        "pid": os.getpid(),
        "time": time.time(),
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(prefixes)},
        "events": events,
        "lock_held": lock_is_held(),
    }
)
time.sleep(control.get("sleep", 0))
if exit_code:
    print("run starting ... reading events", flush=True)
    print(
        control.get("output", "RecordValidationError: bad record in {ids}").format(
            ids=",".join(poisoned) or "-", first=poisoned[0] if poisoned else "-"
        ),
        file=sys.stderr,
        flush=True,
    )
append({"phase": "end", "pid": os.getpid(), "time": time.time(), "exit_code": exit_code})
sys.exit(exit_code)
