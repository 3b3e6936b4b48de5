"""Databricks SQL -> DuckDB SQL: parsing, name resolution, parameter binding, volume paths.

Statements are parsed with sqlglot's Databricks dialect (a statement it cannot parse is refused
with ``PARSE_SYNTAX_ERROR``), their table names are resolved against the session's current
catalog and schema and rewritten to the DuckDB schema that holds them (see ``metastore``),
native parameters (``:name`` / ``?``) are bound as typed literals, ``read_files('/Volumes/…')`` and
``parquet.`/Volumes/…``` become DuckDB file readers over the volume directory, and
``<catalog>.information_schema.*`` becomes a Databricks-shaped view. All SQL the simulator sends to
DuckDB is generated here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from . import errors, information_schema
from .metastore import Metastore, duck_schema

logging.getLogger("sqlglot").setLevel(logging.ERROR)

READERS = {"parquet": "read_parquet", "csv": "read_csv_auto", "json": "read_json_auto"}


@dataclass
class Namespace:
    """A session's current catalog and schema (``USE CATALOG`` / ``USE SCHEMA``)."""

    catalog: str
    schema: str


@dataclass(frozen=True)
class TableName:
    """A fully resolved Databricks table name."""

    catalog: str
    schema: str
    name: str

    def __str__(self) -> str:
        return f"`{self.catalog}`.`{self.schema}`.`{self.name}`"

    def duck(self) -> str:
        return f'"{duck_schema(self.catalog, self.schema)}"."{self.name}"'


@dataclass
class Parameter:
    """One native parameter as the connector sends it (TSparkParameter)."""

    name: str | None
    type: str | None
    value: str | None


@dataclass
class Translation:
    """DuckDB SQL for one statement plus the views it needs registered first."""

    sql: str
    views: dict[str, pa.Table] = field(default_factory=dict)


def parse(statement: str) -> exp.Expression:
    """Parse one Databricks SQL statement; refuse what Databricks' parser would refuse."""
    try:
        trees = [t for t in sqlglot.parse(statement, read="databricks") if t is not None]
    except ParseError as exc:
        raise errors.parse_error(statement, _parse_detail(exc)) from None
    if not trees:
        raise errors.parse_error(statement, "end of input")
    if len(trees) > 1:
        raise errors.DatabricksSQLError(
            "PARSE_SYNTAX_ERROR", "Only one statement can be executed per request.", "42601"
        )
    return trees[0]


def _parse_detail(exc: ParseError) -> str:
    details = exc.errors[0] if exc.errors else {}
    return repr(details.get("highlight") or str(exc).splitlines()[0])


def bind_parameters(tree: exp.Expression, params: list[Parameter]) -> exp.Expression:
    """Replace ``:name`` and ``?`` markers by typed literals, as the warehouse binds them."""
    named = {p.name: p for p in params if p.name}
    positional = iter([p for p in params if not p.name])
    for marker in list(tree.find_all(exp.Placeholder)):
        name = marker.this
        if name:
            if name not in named:
                raise errors.DatabricksSQLError(
                    "UNBOUND_SQL_PARAMETER",
                    f"Found the unbound parameter: {name}. Please, fix `args` and provide a "
                    "mapping of the parameter to a SQL literal.",
                    "42P02",
                )
            param = named[name]
        else:
            param = next(positional, None)
            if param is None:
                raise errors.DatabricksSQLError(
                    "UNBOUND_SQL_PARAMETER",
                    "Found an unbound positional parameter marker '?'.",
                    "42P02",
                )
        marker.replace(_literal(param))
    return tree


def _literal(param: Parameter) -> exp.Expression:
    if param.value is None or (param.type or "").upper() == "VOID":
        return exp.Null()
    literal = exp.Literal.string(param.value)
    if not param.type or param.type.upper() == "STRING":
        return literal
    return exp.cast(literal, exp.DataType.build(param.type, dialect="databricks"))


class Translator:
    """Rewrites parsed statements for DuckDB within one session's namespace."""

    def __init__(self, metastore: Metastore, volumes_root: Path):
        self.metastore = metastore
        self.volumes_root = volumes_root

    # -- names ----------------------------------------------------------------------------
    def resolve(self, table: exp.Table, ns: Namespace) -> TableName:
        """Qualify a table name with the session's catalog/schema; the catalog must exist."""
        catalog = (table.catalog or ns.catalog).lower()
        schema = (table.db or ns.schema).lower()
        if not self.metastore.catalog_exists(catalog):
            raise errors.catalog_not_found(catalog)
        return TableName(catalog, schema, table.name.lower())

    def resolve_schema(self, table: exp.Table, ns: Namespace) -> tuple[str, str]:
        """``CREATE SCHEMA c.s`` arrives as a Table whose name is the schema."""
        catalog = (table.db or ns.catalog).lower()
        if not self.metastore.catalog_exists(catalog):
            raise errors.catalog_not_found(catalog)
        return catalog, table.name.lower()

    def volume_path(self, path: str) -> Path:
        """Local file for ``/Volumes/<catalog>/<schema>/<volume>/<path>``; the volume must exist."""
        parts = [p for p in path.split("/") if p]
        if len(parts) < 4 or parts[0] != "Volumes" or ".." in parts:
            raise errors.DatabricksSQLError(
                "INVALID_VOLUME_PATH",
                f"'{path}' is not a Unity Catalog volume path of the form "
                "/Volumes/<catalog>/<schema>/<volume>/<path>.",
                "42K0F",
            )
        catalog, schema, volume = (p.lower() for p in parts[1:4])
        if not self.metastore.volume_exists(catalog, schema, volume):
            raise errors.DatabricksSQLError(
                "UC_VOLUME_NOT_FOUND",
                f"Volume `{catalog}`.`{schema}`.`{volume}` does not exist. Create it with "
                "CREATE VOLUME first.",
                "42704",
            )
        return self.volumes_root.joinpath(catalog, schema, volume, *parts[4:])

    # -- whole statements -----------------------------------------------------------------
    def to_duckdb(self, tree: exp.Expression, ns: Namespace) -> Translation:
        """DuckDB SQL for a query or DML statement, names and file readers rewritten."""
        views: dict[str, pa.Table] = {}
        cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            self._rewrite_table(table, ns, cte_names, views)
        for column in tree.find_all(exp.Column):
            column.set("db", None)
            column.set("catalog", None)
        session_values = {
            exp.CurrentCatalog: ns.catalog,
            exp.CurrentSchema: ns.schema,
            exp.CurrentDatabase: ns.schema,
        }
        for node_type, value in session_values.items():
            for node in list(tree.find_all(node_type)):
                literal: exp.Expression = exp.Literal.string(value)
                if isinstance(node.parent, exp.Select):  # keep Databricks' column name
                    literal = exp.alias_(literal, node.sql("databricks").lower(), quoted=True)
                node.replace(literal)
        return Translation(tree.sql(dialect="duckdb"), views)

    def _rewrite_table(
        self, table: exp.Table, ns: Namespace, cte_names: set[str], views: dict[str, pa.Table]
    ) -> None:
        reader = self._file_reader(table)
        if reader is not None:
            alias = table.args.get("alias")
            table.set("this", reader)
            table.set("db", None)
            table.set("catalog", None)
            table.set("alias", alias)
            return
        if not isinstance(table.this, exp.Identifier):
            return
        if not table.db and table.name.lower() in cte_names:
            return
        name = self.resolve(table, ns)
        if name.schema == "information_schema":
            rows = information_schema.rows(self.metastore, name.catalog, name.name)
            if rows is None:
                raise errors.table_not_found(str(name))
            view = f"__uc_{name.catalog}_information_schema_{name.name}"
            views[view] = rows
            alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name.name))
            table.set("this", exp.to_identifier(view))
            table.set("db", None)
            table.set("catalog", None)
            table.set("alias", alias)
            return
        table.set("catalog", None)
        table.set("db", exp.to_identifier(duck_schema(name.catalog, name.schema), quoted=True))
        table.set("this", exp.to_identifier(name.name, quoted=True))

    def _file_reader(self, table: exp.Table) -> exp.Expression | None:
        """``read_files('/Volumes/..', format => 'x')`` or ``parquet.`/Volumes/..``` -> DuckDB reader."""
        fmt, path = None, None
        if isinstance(table.this, exp.Anonymous) and table.this.name.lower() == "read_files":
            args = table.this.expressions
            path = args[0].name if args else None
            for arg in args[1:]:
                if isinstance(arg, exp.Kwarg) and arg.this.name.lower() == "format":
                    fmt = arg.expression.name.lower()
            if fmt is None and path:
                fmt = Path(path).suffix.lstrip(".").lower() or "parquet"
        elif (
            isinstance(table.this, exp.Identifier)
            and table.db.lower() in READERS
            and table.name.startswith("/")
        ):
            fmt, path = table.db.lower(), table.name
        if path is None:
            return None
        if fmt not in READERS:
            raise errors.unsupported(f"read_files format '{fmt}'")
        local = self.volume_path(path)
        if not local.exists():
            raise errors.DatabricksSQLError(
                "PATH_NOT_FOUND", f"Path does not exist: {path}.", "42K03"
            )
        pattern = f"{local}/**" if local.is_dir() else str(local)
        return exp.Anonymous(this=READERS[fmt], expressions=[exp.Literal.string(pattern)])
