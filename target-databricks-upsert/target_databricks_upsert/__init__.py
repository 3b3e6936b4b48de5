"""target-databricks-upsert: a Singer target that MERGEs records into Databricks or DuckDB."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("target-databricks-upsert")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
