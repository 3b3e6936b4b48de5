"""Data definition statements: USE, CREATE/DROP SCHEMA, CREATE/ALTER/DROP TABLE.

Delta-only clauses (``USING DELTA``, ``CLUSTER BY``, ``PARTITIONED BY``, ``TBLPROPERTIES``,
comments) are validated as Databricks validates them, recorded in the metastore and stripped
before the table is created in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from . import delta_properties, errors
from .translate import Namespace, TableName

if TYPE_CHECKING:
    from .warehouse import Warehouse

_STRIPPED = (
    exp.FileFormatProperty,
    exp.ClusterProperty,
    exp.PartitionedByProperty,
    exp.Property,
    exp.SchemaCommentProperty,
    exp.LocationProperty,
)


def use(wh: Warehouse, tree: exp.Use, ns: Namespace) -> None:
    kind = (tree.args.get("kind").name if tree.args.get("kind") else "").upper()
    target = tree.this
    if kind == "CATALOG":
        catalog = target.name.lower()
        if not wh.metastore.catalog_exists(catalog):
            raise errors.catalog_not_found(catalog)
        ns.catalog, ns.schema = catalog, "default"
        return
    catalog = (target.db or ns.catalog).lower() if isinstance(target, exp.Table) else ns.catalog
    schema = target.name.lower()
    if not wh.metastore.catalog_exists(catalog):
        raise errors.catalog_not_found(catalog)
    if not wh.metastore.schema_exists(catalog, schema):
        raise errors.schema_not_found(f"`{catalog}`.`{schema}`")
    ns.catalog, ns.schema = catalog, schema


def _schema_name(wh: Warehouse, table: exp.Table, ns: Namespace) -> tuple[str, str]:
    """``CREATE/DROP SCHEMA [cat.]sch`` carries the schema in ``db`` (or ``this``)."""
    if table.args.get("db"):
        catalog, schema = (table.catalog or ns.catalog), table.db
    else:
        catalog, schema = ns.catalog, table.name
    catalog = catalog.lower()
    if not wh.metastore.catalog_exists(catalog):
        raise errors.catalog_not_found(catalog)
    return catalog, schema.lower()


def create_schema(wh: Warehouse, tree: exp.Create, ns: Namespace) -> None:
    catalog, schema = _schema_name(wh, tree.this, ns)
    if wh.metastore.schema_exists(catalog, schema):
        if tree.args.get("exists"):
            return
        raise errors.DatabricksSQLError(
            "SCHEMA_ALREADY_EXISTS",
            f"Cannot create schema `{catalog}`.`{schema}` because it already exists.",
            "42P06",
        )
    wh.metastore.create_schema(catalog, schema)


def _dropped(tree: exp.Drop) -> exp.Table:
    return tree.this if tree.this is not None else tree.args["tables"][0]


def drop_schema(wh: Warehouse, tree: exp.Drop, ns: Namespace) -> None:
    catalog, schema = _schema_name(wh, _dropped(tree), ns)
    if not wh.metastore.schema_exists(catalog, schema):
        if tree.args.get("exists"):
            return
        raise errors.schema_not_found(f"`{catalog}`.`{schema}`")
    has_tables = bool(wh.metastore.schema_columns(catalog, schema))
    if has_tables and not tree.args.get("cascade"):
        raise errors.DatabricksSQLError(
            "SCHEMA_NOT_EMPTY",
            f"Cannot drop a schema `{catalog}`.`{schema}` because it contains objects. "
            "Use DROP SCHEMA ... CASCADE to drop the schema and all its objects.",
            "2BP01",
        )
    wh.run_duckdb(f'DROP SCHEMA "{catalog}.{schema}" CASCADE')
    wh.metastore.forget_schema(catalog, schema)


def check_create_table(wh: Warehouse, tree: exp.Create, ns: Namespace) -> None:
    """Delta's own checks of a CREATE TABLE's layout and properties (before anything runs)."""
    schema_node = tree.this
    table = schema_node.this if isinstance(schema_node, exp.Schema) else schema_node
    name = wh.translator.resolve(table, ns)
    settings = _delta_settings(tree)
    defined = (
        [c.name.lower() for c in schema_node.expressions if isinstance(c, exp.ColumnDef)]
        if isinstance(schema_node, exp.Schema)
        else None
    )
    if settings.clustering and settings.partitioning:
        raise errors.DatabricksSQLError(
            "DELTA_CLUSTER_BY_WITH_PARTITIONED_BY",
            "Clustering and partitioning cannot both be specified.",
            "42613",
        )
    for column in [*settings.clustering, *settings.partitioning]:
        if defined is not None and column.lower() not in defined:
            raise errors.DatabricksSQLError(
                "DELTA_COLUMN_NOT_FOUND_IN_SCHEMA",
                f"Unable to find the column `{column}` of the table {name}.",
                "42703",
            )
    if settings.provider == "delta":
        delta_properties.check(settings.properties)


def create_table(wh: Warehouse, tree: exp.Create, ns: Namespace) -> None:
    schema_node = tree.this
    table = schema_node.this if isinstance(schema_node, exp.Schema) else schema_node
    name = wh.translator.resolve(table, ns)
    if not wh.metastore.schema_exists(name.catalog, name.schema):
        raise errors.schema_not_found(f"`{name.catalog}`.`{name.schema}`")
    exists = bool(wh.metastore.columns(name.catalog, name.schema, name.name))
    if exists and tree.args.get("exists"):
        return
    check_create_table(wh, tree, ns)
    settings = _delta_settings(tree)
    _strip_delta_clauses(tree)
    if isinstance(schema_node, exp.Schema):
        for column in schema_node.expressions:
            if isinstance(column, exp.ColumnDef):
                column.set(
                    "constraints",
                    [
                        c
                        for c in column.args.get("constraints") or []
                        if not isinstance(c.args.get("kind"), exp.CommentColumnConstraint)
                    ],
                )
    translation = wh.translator.to_duckdb(tree, ns)
    wh.run_duckdb(translation.sql, translation.views)
    wh.metastore.record_table(
        name.catalog,
        name.schema,
        name.name,
        provider=settings.provider,
        clustering=settings.clustering,
        partitioning=settings.partitioning,
        properties=settings.properties,
        comment=settings.comment,
    )


@dataclass
class DeltaSettings:
    provider: str = "delta"
    clustering: list[str] = field(default_factory=list)
    partitioning: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    comment: str | None = None


def _delta_settings(tree: exp.Create) -> DeltaSettings:
    settings = DeltaSettings()
    properties = tree.args.get("properties")
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.FileFormatProperty):
            settings.provider = prop.this.name.lower()
        elif isinstance(prop, exp.ClusterProperty):
            settings.clustering = [c.name for c in prop.expressions]
        elif isinstance(prop, exp.PartitionedByProperty):
            cols = prop.this.expressions if isinstance(prop.this, exp.Schema) else [prop.this]
            settings.partitioning = [c.name for c in cols]
        elif isinstance(prop, exp.SchemaCommentProperty):
            settings.comment = prop.this.name
        elif isinstance(prop, exp.Property):
            settings.properties.update([_property(prop)])
    return settings


def _property(prop: exp.Property) -> tuple[str, str]:
    key = prop.this.name if isinstance(prop.this, exp.Literal) else prop.this.sql("databricks")
    value = prop.args.get("value")
    if isinstance(value, exp.Boolean):
        text = "true" if value.this else "false"
    elif isinstance(value, exp.Literal):
        text = value.name
    else:
        text = value.sql("databricks") if value is not None else ""
    return key, text


def _strip_delta_clauses(tree: exp.Create) -> None:
    """Remove what DuckDB has no use for (the metastore keeps it)."""
    properties = tree.args.get("properties")
    if properties is None:
        return
    kept = [p for p in properties.expressions if not isinstance(p, _STRIPPED)]
    if kept:
        properties.set("expressions", kept)
    else:
        tree.set("properties", None)


def alter_table(wh: Warehouse, tree: exp.Alter, ns: Namespace) -> None:
    name = wh.translator.resolve(tree.this, ns)
    if not wh.metastore.columns(name.catalog, name.schema, name.name):
        raise errors.table_not_found(str(name))
    statements: list[str] = []
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.Schema | exp.ColumnDef):
            defs = action.expressions if isinstance(action, exp.Schema) else [action]
            for column in defs:
                column.set("constraints", [])
                statements.append(
                    f"ALTER TABLE {name.duck()} ADD COLUMN {column.sql(dialect='duckdb')}"
                )
        elif isinstance(action, exp.AlterSet):
            props = dict(
                _property(p)
                for group in action.expressions
                for p in getattr(group, "expressions", [group])
                if isinstance(p, exp.Property)
            )
            delta_properties.check(props)
            wh.metastore.set_properties(name.catalog, name.schema, name.name, props)
        elif isinstance(action, exp.ClusterProperty):
            _recluster(wh, name, [c.name for c in action.expressions])
        elif isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
            raise errors.DatabricksSQLError(
                "NOT_SUPPORTED_CHANGE_COLUMN",
                f"ALTER TABLE ALTER/CHANGE COLUMN is not supported for changing {name}'s column "
                f"`{action.name}` to type {action.args['dtype'].sql('databricks')}.",
                "0A000",
            )
        else:
            single = tree.copy()
            single.set("actions", [action.copy()])
            statements.append(wh.translator.to_duckdb(single, ns).sql)
    if statements:
        wh.run_duckdb_transaction(statements)


def _recluster(wh: Warehouse, name: TableName, columns: list[str]) -> None:
    settings = wh.metastore.table_settings(name.catalog, name.schema, name.name) or {}
    existing = {c.lower() for c, _, _ in wh.metastore.columns(name.catalog, name.schema, name.name)}
    for column in columns:
        if column.lower() not in existing:
            raise errors.DatabricksSQLError(
                "DELTA_COLUMN_NOT_FOUND_IN_SCHEMA",
                f"Unable to find the column `{column}` of the table {name}.",
                "42703",
            )
    wh.metastore.record_table(
        name.catalog,
        name.schema,
        name.name,
        provider=settings.get("provider", "delta"),
        clustering=columns,
        partitioning=settings.get("partition_columns", []),
        properties=settings.get("properties", {}),
        comment=settings.get("comment"),
    )


def drop_table(wh: Warehouse, tree: exp.Drop, ns: Namespace) -> None:
    name = wh.translator.resolve(_dropped(tree), ns)
    if not wh.metastore.columns(name.catalog, name.schema, name.name):
        if tree.args.get("exists"):
            return
        raise errors.table_not_found(str(name))
    kind = (tree.args.get("kind") or "TABLE").upper()
    wh.run_duckdb(f"DROP {kind} {name.duck()}")
    wh.metastore.forget_table(name.catalog, name.schema, name.name)


def changed_namespace(
    wh: Warehouse, tree: exp.Expression, ns: Namespace, kind: str
) -> tuple[str, str | None] | None:
    """Which (catalog, schema) a DDL statement changed; schema None when it created or dropped
    a schema (the catalog's list of schemas changed); None for any other statement."""
    if kind in ("CREATE SCHEMA", "CREATE DATABASE", "DROP SCHEMA", "DROP DATABASE"):
        target = tree.this if isinstance(tree, exp.Create) else _dropped(tree)
        return _schema_name(wh, target, ns)[0], None
    if kind in ("CREATE TABLE", "CREATE VIEW", "DROP TABLE", "DROP VIEW", "ALTER TABLE"):
        target = _dropped(tree) if isinstance(tree, exp.Drop) else tree.this
        table = target.this if isinstance(target, exp.Schema) else target
        name = wh.translator.resolve(table, ns)
        return name.catalog, name.schema
    return None
