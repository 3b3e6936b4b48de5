"""`target-databricks-upsert --test`: prove the target can write where its settings point,
before any record moves.

Three steps, stopping at the first that fails: connect (Databricks: reach the workspace,
authenticate, open a session on the SQL warehouse at `http_path`; DuckDB: open the file for
writing), ask who the session runs as, and `Warehouse.probe` (create the schema if missing, create
and drop a `_connection_test` table). The outcome is one line - `target-databricks-upsert: OK -
...` or `target-databricks-upsert: FAILED - <what is wrong and what to do>` - and the exit code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from target_databricks_upsert import sql
from target_databricks_upsert.errors import TargetError
from target_databricks_upsert.warehouse import open_warehouse
from target_databricks_upsert.warehouse.base import ProbeFailed

if TYPE_CHECKING:
    from target_databricks_upsert.target import TargetDatabricksUpsert

PREFIX = "target-databricks-upsert"

_ENGINE_ERROR = re.compile(r"\[([A-Z][A-Z0-9_.]*)\]\s*(.*?)(?:\s*SQLSTATE: \w+|$)", re.DOTALL)
"""A Databricks error as the connector reports it: `[ERROR_CLASS] message SQLSTATE: xxxxx`."""
MISSING_CATALOG = ("NO_SUCH_CATALOG_EXCEPTION", "CATALOG_NOT_FOUND")
NO_PRIVILEGE = ("INSUFFICIENT_PERMISSIONS", "PERMISSION_DENIED", "UNAUTHORIZED_ACCESS")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    line: str


def check_connection(config: Mapping[str, Any], load: sql.Load) -> Verdict:
    """Connect with the target's settings and prove it can create its tables."""
    place = Place(config, load)
    try:
        warehouse = open_warehouse(dict(config))
    except TargetError as problem:  # the adapter says what is wrong and which setting to check
        return _failed(str(problem))
    except Exception as problem:  # the engine's own error (DuckDB: the file)
        return _failed(f"cannot open {place.where}: {engine_message(problem)}")
    principal = None
    try:
        principal = warehouse.principal()
        warehouse.probe(load)
    except ProbeFailed as failure:
        return _failed(place.explain(failure, principal))
    except TargetError as problem:
        return _failed(str(problem))
    finally:
        warehouse.close()
    return Verdict(True, f"{PREFIX}: OK - {place.success(principal)}: can create tables")


def _failed(reason: str) -> Verdict:
    return Verdict(False, f"{PREFIX}: FAILED - {reason}")


class Place:
    """Where the settings say to write, in the words of the settings."""

    def __init__(self, config: Mapping[str, Any], load: sql.Load) -> None:
        self.databricks = config.get("warehouse") == "databricks"
        self.schema = load.namespace[-1]
        self.catalog = load.namespace[0] if len(load.namespace) > 1 else None
        if self.databricks:
            http_path = "/" + str(config.get("http_path") or "").lstrip("/")
            self.where = f"{config.get('server_hostname')}{http_path}"
            oauth = config.get("client_id") and config.get("client_secret")
            self.auth = "OAuth M2M" if oauth else "personal access token"
        else:
            path = Path(config.get("duckdb_path") or "warehouse.duckdb").absolute()
            self.where = f"the DuckDB file {path}"

    def success(self, principal: str | None) -> str:
        if not self.databricks:
            return f"{self.where} is writable, schema {self.schema}"
        return (
            f"connected to {self.where} as {principal} ({self.auth}), catalog {self.catalog}, "
            f"schema {self.schema}"
        )

    def explain(self, failure: ProbeFailed, principal: str | None) -> str:
        """The probe's failure, with what to do about the usual causes."""
        error_class, message = engine_error(failure.cause)
        detail = f"[{error_class}] {message}" if error_class else message
        who = principal or "the connecting principal"
        if error_class in MISSING_CATALOG:
            return (
                f"catalog {self.catalog} does not exist (or {who} cannot see it) on "
                f"{self.where}: set catalog to an existing catalog, or create it ({detail})"
            )
        if error_class in NO_PRIVILEGE:
            return (
                f"no privilege to {failure.step} {failure.target} as {who}: grant USE CATALOG "
                f"on {self.catalog} and CREATE SCHEMA (or USE SCHEMA and CREATE TABLE on "
                f"{self.catalog}.{self.schema}) ({detail})"
            )
        return f"cannot {failure.step} {failure.target} in {self.where}: {detail}"


def engine_error(problem: BaseException) -> tuple[str | None, str]:
    """(Databricks error class or None, message) of the engine error behind `problem`."""
    for exc in _chain(problem):
        text = str(exc)
        found = _ENGINE_ERROR.search(text)
        if found:
            return found.group(1), " ".join(found.group(2).split())
    return None, engine_message(problem)


def engine_message(problem: BaseException) -> str:
    """The first line of the innermost error's message."""
    innermost = list(_chain(problem))[-1]
    text = str(innermost).strip() or type(innermost).__name__
    return " ".join(text.splitlines()[0].split())


def _chain(problem: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    exc: BaseException | None = problem
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def test_option(target_class: type[TargetDatabricksUpsert]) -> click.Option:
    """The `--test` flag of the target's command line."""

    def run_check(ctx: click.Context, _param: click.Option, value: bool) -> None:
        if not value:
            return
        config = ctx.params["config"]
        try:
            target = target_class(
                config=config.config, parse_env_config=config.parse_env, validate_config=True
            )
        except Exception as invalid:  # settings the SDK or the target refused
            errors = getattr(invalid, "errors", None) or [str(invalid)]
            verdict = _failed(f"settings: {'; '.join(errors)}")
        else:
            verdict = check_connection(target.config, target.load)
        click.echo(verdict.line)
        ctx.exit(0 if verdict.passed else 1)

    return click.Option(
        ["--test"],
        is_flag=True,
        expose_value=False,
        callback=run_check,
        help="Check the settings without loading anything: connect, authenticate, create the "
        "schema and a _connection_test table (dropped again); print one line, exit 0 or 1.",
    )
