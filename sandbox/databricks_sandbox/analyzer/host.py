"""One JVM running Spark's analyzer for every simulator a test session or bench starts.

Starting Spark costs a JVM and seconds of CPU; a test session starts many simulators. So the first
simulator a process starts through `testing.start_databricks_sandbox` starts this host once
(`shared_gateway()`), and every simulator spawned afterwards opens a session of its own in it
(`jvm.SHARED_GATEWAY_ENV`): same checks, separate catalogs, one JVM. The host ends with the process
that started it. A simulator started by hand (`databricks-sandbox serve`) starts its own JVM.

    python -m databricks_sandbox.analyzer.host --ready FILE   # writes "<port>:<secret>" to FILE
"""

from __future__ import annotations

import argparse
import atexit
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import jvm

START_TIMEOUT_SECONDS = 300
_host: subprocess.Popen | None = None


def shared_gateway() -> str:
    """``<port>:<secret>`` of this process's analyzer host, started on first use (and set in
    `jvm.SHARED_GATEWAY_ENV`, so every simulator spawned from here on uses it)."""
    global _host
    if os.environ.get(jvm.SHARED_GATEWAY_ENV):
        return os.environ[jvm.SHARED_GATEWAY_ENV]
    jvm.check_requirements()
    jvm.compiled_classes()  # once, before any simulator could race for it
    ready = Path(tempfile.mkdtemp(prefix="databricks-sandbox-analyzer-")) / "gateway"
    log = ready.with_name("host.log")
    with log.open("wb") as out:
        _host = subprocess.Popen(
            [sys.executable, "-m", "databricks_sandbox.analyzer.host", "--ready", str(ready)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    atexit.register(_stop_host)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready.exists():
        if _host.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"the shared analyzer host did not start; log:\n"
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.1)
    os.environ[jvm.SHARED_GATEWAY_ENV] = ready.read_text().strip()
    return os.environ[jvm.SHARED_GATEWAY_ENV]


def _stop_host() -> None:
    if _host is not None and _host.poll() is None:
        _host.terminate()
        try:
            _host.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _host.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="databricks-sandbox-analyzer-host")
    parser.add_argument(
        "--ready",
        type=Path,
        required=True,
        help="file to write <port>:<secret> to once Spark is up",
    )
    args = parser.parse_args(argv)
    parent = os.getppid()
    spark = jvm.start_spark()
    spark._jvm.databricks_sandbox.Analysis.setRoot(spark._jsparkSession)
    parameters = spark.sparkContext._gateway.java_parameters
    partial = args.ready.with_suffix(".partial")
    partial.write_text(f"{parameters.port}:{parameters.auth_token}\n")
    partial.rename(args.ready)
    while os.getppid() == parent:  # the process that started the host is still there
        time.sleep(1)
    spark.stop()


if __name__ == "__main__":
    main()
