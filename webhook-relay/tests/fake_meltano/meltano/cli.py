"""A stand-in for ``meltano.cli``, for the relay's warm start and catalog tests.

Importing it appends an "imported" line to $RELAY_TEST_RECORD (so a test can tell Meltano was
imported before the webhook came). ``main()`` answers ``invoke --dump=catalog tap-wave`` with a
small catalog (and a "catalog" line); otherwise it appends a "handed" line (is the run lock's
descriptor open in this process, where do stdout and stderr go) and behaves as ``record_run.py``.
"""

import contextlib
import json
import os
import runpy
import sys
import time
from pathlib import Path

RECORD = Path(os.environ["RELAY_TEST_RECORD"])
RECORDER = Path(__file__).resolve().parents[2] / "record_run.py"
CATALOG = {
    "streams": [{"tap_stream_id": "invoices", "stream": "invoices", "schema": {}, "metadata": []}]
}


def _append(entry: dict) -> None:
    with open(RECORD, "a") as record:
        record.write(json.dumps({"pid": os.getpid(), "time": time.time(), **entry}) + "\n")


def _open_files() -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
    return found


_append({"phase": "imported"})


def main() -> int:
    if "--dump=catalog" in sys.argv:
        _append(
            {
                "phase": "catalog",
                "argv": sys.argv,
                "cwd": os.getcwd(),
                "select_filter": os.environ.get("TAP_WAVE__SELECT_FILTER"),
            }
        )
        print(json.dumps(CATALOG))
        return 0
    _append(
        {
            "phase": "handed",
            "argv": sys.argv,
            "open_files": _open_files(),
            "stdout": os.readlink("/proc/self/fd/1"),
            "stderr": os.readlink("/proc/self/fd/2"),
        }
    )
    runpy.run_path(str(RECORDER), run_name="__main__")
    return 0
