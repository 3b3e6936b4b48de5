"""Apache Spark's parser and analyzer in front of the simulator.

Every statement a client sends is parsed and analysed by Spark 4 (the engine under Databricks SQL)
before DuckDB executes it, against a *shadow catalog*: for each Unity Catalog catalog the simulator
holds, a Spark catalog with the same schemas and tables (same columns and types, no data), kept
equal to the DuckDB side after every statement that changes it. A statement Spark refuses is
refused with Spark's own error class, message and SQLSTATE, as a SQL warehouse refuses it.

Databricks-only syntax Spark does not have is handled here, explicitly:

* ``read_files('/Volumes/…', format => 'parquet')`` and ``parquet.`/Volumes/…` `` are analysed as
  Spark's ``parquet.`<the volume file on disk>` ``, so their columns are typed from the file itself;
* ``<catalog>.information_schema.<view>`` is a shadow schema holding the views the simulator
  answers, with their columns;
* ``USE CATALOG``, ``CREATE CATALOG``, ``CREATE/DROP VOLUME``, ``DESCRIBE DETAIL`` and the staging
  commands ``PUT``/``GET``/``REMOVE`` are not analysed (Spark's grammar has none of them); the
  simulator checks their names itself.

MERGE, UPDATE and DELETE are analysed against tables that accept row-level operations, as Delta
tables do, so Spark resolves and type-checks them fully; nothing is executed by Spark.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from .. import errors, information_schema
from ..metastore import Metastore, databricks_type
from . import jvm

LOGGER = logging.getLogger(__name__)
START_TIMEOUT_SECONDS = 300

_READ_FILES = re.compile(
    r"read_files\s*\(\s*'(?P<path>/Volumes/[^']*)'\s*"
    r"(?:,\s*format\s*=>\s*'(?P<format>\w+)'\s*)?\)",
    re.IGNORECASE,
)
_FILE_RELATION = re.compile(
    r"\b(?P<format>parquet|csv|json)\s*\.\s*`(?P<path>/Volumes/[^`]*)`", re.IGNORECASE
)


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def spark_columns(columns: list[tuple[str, str, bool]]) -> str:
    """A Spark DDL column list for (name, DuckDB type, nullable) columns."""
    return ", ".join(
        f"{_quote(name)} {databricks_type(duck_type)}{'' if nullable else ' NOT NULL'}"
        for name, duck_type, nullable in columns
    )


class SparkAnalyzer:
    """Parses and analyses statements with Spark against a shadow of the metastore."""

    name = "spark"

    def __init__(
        self, metastore: Metastore, volume_path: Callable[[str], Path], default_catalog: str
    ) -> None:
        self.metastore = metastore
        self.volume_path = volume_path
        self.default_catalog = default_catalog
        self._session: jvm.Session | None = None
        self._failure: BaseException | None = None
        self._ready = threading.Event()
        self._catalogs: set[str] = set()

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the JVM in the background; statements wait for it (see `_session`)."""
        threading.Thread(target=self._start, name="spark-analyzer", daemon=True).start()

    def _start(self) -> None:
        try:
            self._session = jvm.open_session()
            self._analysis = self._session.jvm.databricks_sandbox.Analysis
            for catalog in self.metastore.catalogs():
                self._mirror_catalog(catalog)
            LOGGER.info("Spark %s analyses every statement", self._session.version)
        except BaseException as exc:  # reported to every statement that needs the analyzer
            LOGGER.exception("Spark's analyzer could not start")
            self._failure = exc
        finally:
            self._ready.set()

    def status(self) -> str:
        """starting | ready | failed: <why> (for /healthz)."""
        if not self._ready.is_set():
            return "starting"
        return "ready" if self._failure is None else f"failed: {self._failure}"

    def wait_ready(self) -> None:
        """Block until Spark is up (or failed); raise if it is not running."""
        self._java()

    def _java(self):
        """The Java SparkSession statements are analysed in (waiting for Spark to start)."""
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise errors.DatabricksSQLError(
                "INTERNAL_ERROR",
                f"Spark's analyzer did not start within {START_TIMEOUT_SECONDS} s.",
                "XX000",
            )
        if self._failure is not None:
            raise errors.DatabricksSQLError(
                "INTERNAL_ERROR", f"Spark's analyzer is not running: {self._failure}", "XX000"
            )
        return self._session.java_session

    def close(self) -> None:
        if self._session is not None:
            self._session.stop()

    # -- statements ---------------------------------------------------------------------------
    def check(self, statement: str, catalog: str, schema: str, params: list) -> None:
        """Raise DatabricksSQLError with Spark's error if Spark refuses `statement`."""
        session = self._java()
        text = self._for_spark(statement)
        named = [p.name for p in params] if params and params[0].name else None
        types = [p.type or ("VOID" if p.value is None else "STRING") for p in params]
        values = [p.value for p in params]
        answer = json.loads(
            self._analysis.analyze(session, catalog, schema, text, named, types, values)
        )
        if not answer["ok"]:
            raise _error(answer)

    def _for_spark(self, statement: str) -> str:
        """The statement with Databricks' file readers made Spark's (the volume file on disk)."""

        def local(path: str, fmt: str) -> str:
            file = self.volume_path(path)
            if not file.exists():
                raise errors.DatabricksSQLError(
                    "PATH_NOT_FOUND", f"Path does not exist: {path}.", "42K03"
                )
            return f"{fmt.lower()}.{_quote(str(file))}"

        text = _READ_FILES.sub(
            lambda m: local(
                m["path"], m["format"] or Path(m["path"]).suffix.lstrip(".") or "parquet"
            ),
            statement,
        )
        return _FILE_RELATION.sub(lambda m: local(m["path"], m["format"]), text)

    # -- the shadow catalog ---------------------------------------------------------------------
    def catalog_changed(self, catalog: str) -> None:
        """Mirror a catalog (new, or its schemas created/dropped)."""
        self._java()
        self._mirror_catalog(catalog)

    def schema_changed(self, catalog: str, schema: str) -> None:
        """Mirror one schema's tables and columns after a statement changed them."""
        self._java()
        if catalog not in self._catalogs:
            self._mirror_catalog(catalog)
            return
        shadow = self._shadow(catalog)
        if self.metastore.schema_exists(catalog, schema):
            shadow.mirrorSchema(schema, self._tables(catalog, schema))
        else:
            shadow.forgetSchema(schema)

    def _shadow(self, catalog: str):
        return self._analysis.catalog(self._session.java_session, catalog)

    def _mirror_catalog(self, catalog: str) -> None:
        self._catalogs.add(catalog)
        shadow = self._shadow(catalog)
        kept = set(self.metastore.schemas(catalog))
        for (existing,) in shadow.listNamespaces():
            if existing not in kept and existing != information_schema.SCHEMA:
                shadow.forgetSchema(existing)
        for schema in kept:
            shadow.mirrorSchema(schema, self._tables(catalog, schema))
        shadow.mirrorSchema(
            information_schema.SCHEMA,
            {
                view: ", ".join(f"{_quote(c)} {t}" for c, t in columns)
                for view, columns in information_schema.VIEWS.items()
            },
        )

    def _tables(self, catalog: str, schema: str) -> dict[str, str]:
        return {
            name: spark_columns(columns)
            for name, columns in self.metastore.schema_columns(catalog, schema).items()
        }


_CATALOG_NAME = re.compile(r"The catalog `([^`]*)` not found")


def _error(answer: dict) -> errors.DatabricksSQLError:
    """Spark's refusal as the warehouse reports it (error class, message and SQLSTATE).

    One difference is Unity Catalog's own: a catalog that does not exist is reported as
    ``NO_SUCH_CATALOG_EXCEPTION``, not open-source Spark's ``CATALOG_NOT_FOUND`` (which tells the
    user to set a Spark config).
    """
    condition = answer.get("condition") or "INTERNAL_ERROR"
    if condition == "CATALOG_NOT_FOUND":
        match = _CATALOG_NAME.search(answer.get("message") or "")
        return errors.catalog_not_found(match.group(1) if match else "?")
    sqlstate = answer.get("sqlstate")
    message = answer.get("message") or answer.get("java_class", "")
    if not answer.get("condition"):
        LOGGER.warning(
            "the analyzer failed without an error class (%s): %s", answer.get("java_class"), message
        )
    return errors.DatabricksSQLError(condition, message, sqlstate, verbatim=True)
