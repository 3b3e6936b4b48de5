"""Every default of the relay's settings, in one place.

``webhook-relay serve``'s flags (cli.py), the settings objects (config.RelaySettings,
worker.WorkerSettings, targeting.RunCommand, signature.SignatureVerifier, serving's protocol) and
the test helper (testing.py) all take their defaults from here, so a default changed here changes
everywhere (webhook-relay/README.md, "Running it", lists them).
"""

from __future__ import annotations

from typing import Final

# Where to listen (keep it on loopback behind the proxy).
HOST: Final = "127.0.0.1"
PORT: Final = 8787

# Receiving: the signature's timestamp tolerance and the limits on a request.
TOLERANCE_SECONDS: Final = 300
MAX_BODY_BYTES: Final = 1024 * 1024
BODY_TIMEOUT_SECONDS: Final = 30.0
HEADER_TIMEOUT_SECONDS: Final = 10.0
KEEP_ALIVE_SECONDS: Final = 5
MAX_CONNECTIONS: Final = 512

# Acting: when runs start, how failed runs are retried, and when an event is quarantined.
DEBOUNCE_SECONDS: Final = 2.0
MAX_WAIT_SECONDS: Final = 10.0
RETRY_BASE_SECONDS: Final = 2.0
RETRY_MAX_SECONDS: Final = 300.0
RUN_TIMEOUT_SECONDS: Final = 3600.0
TERMINATE_GRACE_SECONDS: Final = 30.0
QUARANTINE_AFTER: Final = 3
IDLE_CHECK_SECONDS: Final = 2.0

# The command a run is: which Meltano, its environment, and the relay's state id suffix.
MELTANO_BIN: Final = "meltano"
ENVIRONMENT: Final = "dev"
STATE_ID_SUFFIX: Final = "relay"

LOG_LEVEL: Final = "info"
