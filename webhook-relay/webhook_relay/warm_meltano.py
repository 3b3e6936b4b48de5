"""The waiting half of the warm start (warm_start.py), run by path in Meltano's own interpreter:
``python warm_meltano.py <socket descriptor> <the meltano script's folder>``.

Imports Meltano's CLI (and what ``meltano run`` imports next), then waits on the socket for one
run: a 16-byte length and, with it, the run's log and run-lock descriptors; then that many bytes
of JSON (argv, env, cwd). It makes the log its stdout and stderr, keeps the lock's descriptor
open, takes the run's directory and environment, and calls ``main()`` as Meltano's console script
does, exiting with its code. End-of-file instead of a run (the relay went away): exit 0, nothing
run. Standard library and Meltano only: this package need not be installed where Meltano is.
"""

import sys

if __name__ != "__main__":  # a program, never imported (that would rewrite sys.path)
    raise ImportError("webhook_relay.warm_meltano is run by path by warm_start.py")
sys.path[0] = sys.argv[2]  # as for the console script: its folder, not this file's

import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
from collections.abc import Callable  # noqa: E402

# What `meltano run` imports after its CLI module (Meltano 4.4: the system database's migration
# check and dialect, the worker threads' primitives): imported ahead too, a tenth of a second more.
# A name another Meltano does not have is skipped.
PRELOAD = (
    "alembic",
    "alembic.command",
    "alembic.config",
    "anyio",
    "anyio.abc",
    "anyio._core._eventloop",
    "anyio._core._sockets",
    "anyio._core._streams",
    "anyio._core._synchronization",
    "ctypes",
    "meltano.core.meltano_file",
    "meltano.migrations.utils.dialect_typing",
    "sqlalchemy.dialects.sqlite",
    "sqlite3",
)
HEADER_BYTES = 16

channel = socket.socket(fileno=int(sys.argv[1]))
from meltano.cli import main  # noqa: E402

for name in PRELOAD:
    try:
        __import__(name)
    except Exception:  # another Meltano: nothing to import ahead
        continue
gc.freeze()  # what was imported lives as long as the process


def exactly(size: int, data: bytes = b"") -> bytes:
    while len(data) < size:
        more = channel.recv(size - len(data))
        if not more:
            sys.exit(0)  # the relay went away: nothing to run
        data += more
    return data


header, fds, _, _ = socket.recv_fds(channel, HEADER_BYTES, 2)
if not header:
    sys.exit(0)
spec = json.loads(exactly(int(exactly(HEADER_BYTES, header))))
channel.close()
log_fd, lock_fd = [*fds, -1][:2]
os.dup2(log_fd, 1)
os.dup2(log_fd, 2)
os.close(log_fd)
if lock_fd >= 0:
    os.set_inheritable(lock_fd, True)  # held until this process exits, as with a plain start
os.chdir(spec["cwd"])
os.environ.clear()
os.environ.update(spec["env"])
sys.argv = spec["argv"]
# As the console script does: main()'s value is the exit status (Meltano's annotation says None).
run: Callable[[], int | None] = main
try:
    sys.exit(run())
finally:
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # skip the final collection at exit: a few hundred ms once Meltano is loaded
