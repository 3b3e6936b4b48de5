"""Starting Spark for the analyzer: find Java 17+, compile the shadow catalog, open a session.

The shadow catalog (``java/databricks_sandbox/*.java``) is compiled once with the machine's
``javac`` against pyspark's own jars and cached under ``~/.cache/databricks-sandbox/`` (keyed by the
sources and the Spark version), so only the first simulator on a machine pays for it. Spark runs
``local[1]``, ANSI mode on, session time zone UTC, UI off, bound to loopback: in the simulator's own
JVM, or in one JVM shared by several simulators (`host.py`, SHARED_GATEWAY_ENV), each with a
session of its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOGGER = logging.getLogger(__name__)
JAVA_SOURCES = Path(__file__).parent / "java"
MIN_JAVA = 17


class AnalyzerUnavailable(RuntimeError):
    """Spark's analyzer cannot run on this machine; the message is one line saying why."""


def _java_home_tool(name: str) -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / name).exists():
        return str(Path(home) / "bin" / name)
    return shutil.which(name)


def java_version(java: str) -> int:
    """The major version `java -version` reports (17 for "17.0.15", 8 for "1.8.0_392")."""
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_requirements() -> None:
    """Raise AnalyzerUnavailable (one line) unless pyspark, Java >= 17 and javac are here."""
    advice = "or start the simulator with --analyzer none"
    if importlib.util.find_spec("pyspark") is None:
        raise AnalyzerUnavailable(
            "Spark's analyzer needs pyspark (pip install 'wave-databricks-sandbox[analyzer]'), "
            + advice
        )
    java = _java_home_tool("java")
    if java is None:
        raise AnalyzerUnavailable(
            f"Spark's analyzer needs Java {MIN_JAVA} or newer: no java on PATH or in JAVA_HOME, "
            + advice
        )
    version = java_version(java)
    if version < MIN_JAVA:
        raise AnalyzerUnavailable(
            f"Spark's analyzer needs Java {MIN_JAVA} or newer; {java} is Java {version or '?'}, "
            + advice
        )
    if _java_home_tool("javac") is None:
        raise AnalyzerUnavailable(
            f"Spark's analyzer needs a JDK (javac) to build its catalog; {java} has none, " + advice
        )


def _spark_jars() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "databricks-sandbox"


def compiled_classes() -> Path:
    """The directory holding the compiled shadow catalog (compiling it once per machine)."""
    import pyspark

    sources = sorted(JAVA_SOURCES.rglob("*.java"))
    digest = hashlib.sha256(pyspark.__version__.encode())
    for source in sources:
        digest.update(source.read_bytes())
    target = _cache_dir() / f"analyzer-{digest.hexdigest()[:16]}"
    if (target / "ok").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".compile.lock", "w") as lock, _locked(lock):
        if (target / "ok").exists():
            return target
        building = Path(tempfile.mkdtemp(prefix="analyzer-", dir=target.parent))
        command = [
            _java_home_tool("javac") or "javac",
            "-nowarn",
            "-encoding",
            "UTF-8",
            "-cp",
            str(_spark_jars() / "*"),
            "-d",
            str(building),
            *map(str, sources),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            shutil.rmtree(building, ignore_errors=True)
            raise AnalyzerUnavailable(
                "javac could not build the analyzer's shadow catalog: "
                + " ".join(done.stderr.split())[:500]
            )
        (building / "ok").write_text("compiled\n")
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
    return target


@contextlib.contextmanager
def _locked(handle):
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


SHARED_GATEWAY_ENV = "DATABRICKS_SANDBOX_ANALYZER_GATEWAY"
"""``<port>:<secret>`` of a JVM already running Spark with the shadow catalog (`host.py`): a
simulator started with it opens a session there instead of starting a JVM of its own."""


@dataclass
class Session:
    """A Spark session for one simulator: the JVM's view, its Java session, and what to stop."""

    jvm: object
    java_session: object  # org.apache.spark.sql.classic.SparkSession
    stop: Callable[[], None]
    version: str


def start_spark():
    """A local Spark whose classpath holds the shadow catalog: ANSI, UTC, UI off, loopback."""
    classes = compiled_classes()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("databricks-sandbox-analyzer")
        .config("spark.driver.extraClassPath", str(classes))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def open_session() -> Session:
    """A session on the shared JVM named by SHARED_GATEWAY_ENV, or on a JVM of this process."""
    shared = os.environ.get(SHARED_GATEWAY_ENV)
    if shared:
        from py4j.clientserver import ClientServer, JavaParameters, PythonParameters

        port, _, secret = shared.partition(":")
        gateway = ClientServer(
            java_parameters=JavaParameters(port=int(port), auth_token=secret, auto_convert=True),
            python_parameters=PythonParameters(port=0, eager_load=False),
        )
        java = gateway.jvm.databricks_sandbox.Analysis.newSession()
        # close(), not shutdown(): shutting down would stop the shared JVM for every simulator
        return Session(gateway.jvm, java, gateway.close, java.version())
    spark = start_spark()
    return Session(spark._jvm, spark._jsparkSession, spark.stop, spark.version)
