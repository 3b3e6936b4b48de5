"""Start a real ``databricks-sandbox`` process for tests and benchmarks, and talk to it.

    with start_databricks_sandbox() as sandbox:
        with databricks.sql.connect(**sandbox.connection()["connect_kwargs"]) as conn:
            ...

Options are the CLI flags in snake_case (``token_ttl=5``, ``fault_http_503=2``, ``data_dir=...``,
``tls=True`` for https, ``analyzer="none"``, ``latency="serverless"``).
The process listens on a free port and is killed on exit; without ``data_dir`` its data lives in
a temporary directory removed on exit. If it does not become healthy the error carries its log.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sandbox_support.process import ServerProcess, free_port, spawn

from .analyzer.host import shared_gateway
from .tls import certificate


class DatabricksSandbox(ServerProcess):
    """A running simulated warehouse: its URLs, connection settings and control helpers."""

    name = "databricks-sandbox"

    def __init__(
        self,
        base_url: str,
        data_dir: Path,
        process: subprocess.Popen,
        log_path: Path,
        ca_file: Path | None = None,
    ) -> None:
        super().__init__(base_url, process, log_path, verify=str(ca_file) if ca_file else True)
        self.data_dir = data_dir
        self.ca_file = ca_file  # with tls=True: the certificate to trust

    def connection(self) -> dict:
        """``{"connect_kwargs": {...}, "target_config": {...}, ...}`` from /sandbox/connection."""
        return self._control("GET", "/sandbox/connection")

    def connect(self, **overrides):
        """A ``databricks.sql`` connection with the PAT (``overrides`` replace/add kwargs)."""
        import databricks.sql

        return databricks.sql.connect(**{**self.connection()["connect_kwargs"], **overrides})

    def oauth_credentials_provider(
        self, client_id: str | None = None, client_secret: str | None = None
    ):
        """A ``credentials_provider`` for ``databricks.sql.connect`` doing OAuth M2M with
        databricks-sdk against this sandbox (the service principal by default)."""
        from databricks.sdk.core import Config, oauth_service_principal

        target = self.connection()["target_config"]
        config = Config(
            host=target["server_hostname"],
            client_id=client_id or target["client_id"],
            client_secret=client_secret or target["client_secret"],
        )
        return lambda: oauth_service_principal(config)

    def connect_oauth(self, **overrides):
        """A ``databricks.sql`` connection authenticated by OAuth M2M instead of the PAT."""
        import databricks.sql

        kwargs = {
            k: v for k, v in self.connection()["connect_kwargs"].items() if k != "access_token"
        }
        kwargs["credentials_provider"] = self.oauth_credentials_provider()
        return databricks.sql.connect(**{**kwargs, **overrides})

    def statements(self, since: int = 0) -> list[dict]:
        """Statements executed so far (oldest first), each with seq, timestamp, kind, status."""
        return self._control("GET", f"/sandbox/statements?since={since}")

    def reset_statements(self) -> int:
        return self._control("POST", "/sandbox/statements/reset")["cleared"]

    def set_faults(self, **settings) -> dict:
        """``http_503``/``http_429``/``concurrent_append``/``metadata_changed`` = N,
        ``expire_tokens=True``, ``token_ttl`` = seconds, ``deny=["PRINCIPAL=CATALOG", ...]``
        (replaces the read-only rules); returns the fault counters and rules."""
        return self._control("POST", "/sandbox/faults", settings)

    def faults(self) -> dict:
        return self._control("GET", "/sandbox/faults")

    def expire_tokens(self) -> dict:
        return self.set_faults(expire_tokens=True)

    def latency(self) -> dict:
        """Seconds per statement kind of the latency model (all 0: off)."""
        return self._control("GET", "/sandbox/latency")

    def set_latency(self, **seconds) -> dict:
        """``dml=1.5, query=0.3, ...`` changes those kinds; ``profile="serverless"`` (or
        ``"off"``) first sets every kind; returns the seconds of every kind."""
        return self._control("POST", "/sandbox/latency", seconds)

    def auth_state(self) -> dict:
        """``{"tokens_issued": N, "token_ttl": seconds}``."""
        return self._control("GET", "/sandbox/auth")

    def tables(self) -> list[dict]:
        """Every table with columns and Delta settings (clustering, partitioning, properties)."""
        return self._control("GET", "/sandbox/tables")


@contextlib.contextmanager
def start_databricks_sandbox(
    startup_timeout: float = 60.0, **options
) -> Iterator[DatabricksSandbox]:
    """Run ``databricks-sandbox serve`` with ``options`` on a free port until the block exits."""
    options = dict(options)
    if options.get("analyzer", "spark") == "spark":
        shared_gateway()  # one JVM for every simulator this process starts (analyzer/host.py)
    options.setdefault("host", "127.0.0.1")
    options.setdefault("port", free_port())
    own_dir = options.get("data_dir") is None
    data_dir = Path(options.get("data_dir") or tempfile.mkdtemp(prefix="databricks-sandbox-"))
    options["data_dir"] = data_dir
    log_path = (
        data_dir.parent / f"{data_dir.name}.log"
        if own_dir
        else Path(tempfile.mkstemp(prefix="databricks-sandbox-", suffix=".log")[1])
    )
    ca_file = None
    if options.get("tls"):  # made here first, so this side trusts it from the first request
        data_dir.mkdir(parents=True, exist_ok=True)
        ca_file = certificate(data_dir)[0]
    process = spawn("databricks_sandbox", options, log_path)
    scheme = "https" if ca_file else "http"
    sandbox = DatabricksSandbox(
        f"{scheme}://{options['host']}:{options['port']}", data_dir, process, log_path, ca_file
    )
    try:
        sandbox.wait_healthy(startup_timeout)
        yield sandbox
    finally:
        sandbox.close()
        with contextlib.suppress(OSError):
            log_path.unlink()
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
