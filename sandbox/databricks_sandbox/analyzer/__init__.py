"""The analyzer in front of the simulator: Apache Spark's (`spark.py`, the default) or none.

`make_analyzer("spark", ...)` checks at once that pyspark, Java 17+ and javac are here (raising
`AnalyzerUnavailable` with one line saying what is missing); its `start()` starts Spark in the
background. `make_analyzer("none", ...)` gives `NoAnalyzer`, which lets every statement through.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..metastore import Metastore
from .jvm import AnalyzerUnavailable, check_requirements

MODES = ("spark", "none")


class NoAnalyzer:
    """No analysis: DuckDB alone decides (quick local use, `--analyzer none`)."""

    name = "none"

    def start(self) -> None:
        pass

    def status(self) -> str:
        return "off"

    def wait_ready(self) -> None:
        pass

    def close(self) -> None:
        pass

    def check(self, statement: str, catalog: str, schema: str, params: list) -> None:
        pass

    def catalog_changed(self, catalog: str) -> None:
        pass

    def schema_changed(self, catalog: str, schema: str) -> None:
        pass


def make_analyzer(
    mode: str, metastore: Metastore, volume_path: Callable[[str], Path], default_catalog: str
):
    """The analyzer for `--analyzer mode` (not started yet)."""
    if mode == "none":
        return NoAnalyzer()
    if mode != "spark":
        raise ValueError(f"unknown analyzer {mode!r}; use one of {', '.join(MODES)}")
    check_requirements()
    from .spark import SparkAnalyzer

    return SparkAnalyzer(metastore, volume_path, default_catalog)


__all__ = ["MODES", "AnalyzerUnavailable", "NoAnalyzer", "make_analyzer"]
