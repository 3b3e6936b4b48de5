"""Unity Catalog metadata kept beside the data: catalogs, schemas, tables, volumes and the Delta
table settings (provider, clustering, partitioning, TBLPROPERTIES) DuckDB itself cannot hold.

Naming: the Databricks schema ``catalog.schema`` lives in DuckDB as the single schema named
``"catalog.schema"`` (one DuckDB file holds every catalog), so ``cat.sch.tbl`` becomes
``"cat.sch".tbl``. Everything about that mapping is in this module.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime

import duckdb

from .information_schema import SYSTEM_CATALOG

META_SCHEMA = "_sandbox"
DEFAULT_SCHEMA = "default"
# Delta adds these to every table it creates; SHOW TBLPROPERTIES lists them.
DELTA_DEFAULT_PROPERTIES = {"delta.minReaderVersion": "1", "delta.minWriterVersion": "2"}


def duck_schema(catalog: str, schema: str) -> str:
    """The DuckDB schema name holding Databricks ``catalog.schema``."""
    return f"{catalog.lower()}.{schema.lower()}"


def public_name(text: str) -> str:
    """Rewrite DuckDB names found in a message (``"cat.sch".t``) to Databricks ones (``cat.sch.t``)."""
    return re.sub(r'"(\w+\.\w+)"', r"\1", text)


_SIMPLE_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "BOOLEAN": "boolean",
    "DOUBLE": "double",
    "FLOAT": "float",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP": "timestamp_ntz",
    "BLOB": "binary",
    "HUGEINT": "decimal(38,0)",
    "INTERVAL": "interval",
    "UUID": "string",
    "JSON": "string",
    '"NULL"': "void",
}


def databricks_type(duck_type: str) -> str:
    """Databricks' lower-case type name (``decimal(38,6)``, ``array<string>``) for a DuckDB type."""
    t = duck_type.strip()
    if t in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[t]
    if t.startswith("DECIMAL"):
        return t.lower().replace(" ", "")
    if t.endswith("[]"):
        return f"array<{databricks_type(t[:-2])}>"
    if t.startswith("MAP("):
        key, _, value = t[4:-1].partition(", ")
        return f"map<{databricks_type(key)},{databricks_type(value)}>"
    if t.startswith("STRUCT("):
        fields = _split_top_level(t[7:-1])
        parts = []
        for f in fields:
            name, _, ftype = f.strip().partition(" ")
            parts.append(f"{name.strip(chr(34))}:{databricks_type(ftype)}")
        return f"struct<{','.join(parts)}>"
    return t.lower()


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    return [*parts, current] if current else parts


class Metastore:
    """Catalog, table and volume metadata stored in DuckDB schema ``_sandbox``."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, lock: threading.RLock):
        self._conn = conn
        self._lock = lock
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{META_SCHEMA}"')
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{META_SCHEMA}".catalogs (name VARCHAR PRIMARY KEY)'
        )
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{META_SCHEMA}".tables (catalog VARCHAR, schema VARCHAR, '
            "name VARCHAR, provider VARCHAR, clustering VARCHAR, partitioning VARCHAR, "
            "properties VARCHAR, comment VARCHAR, created_at TIMESTAMPTZ, "
            "PRIMARY KEY (catalog, schema, name))"
        )
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{META_SCHEMA}".volumes (catalog VARCHAR, schema VARCHAR, '
            "name VARCHAR, PRIMARY KEY (catalog, schema, name))"
        )

    # -- catalogs and schemas -------------------------------------------------------------
    def create_catalog(self, name: str) -> None:
        with self._lock:
            self._conn.execute(
                f'INSERT OR IGNORE INTO "{META_SCHEMA}".catalogs VALUES (?)', [name.lower()]
            )
            self.create_schema(name, DEFAULT_SCHEMA)

    def catalog_exists(self, name: str) -> bool:
        if name.lower() == SYSTEM_CATALOG:
            return True
        with self._lock:
            return bool(
                self._conn.execute(
                    f'SELECT 1 FROM "{META_SCHEMA}".catalogs WHERE name = ?', [name.lower()]
                ).fetchall()
            )

    def catalogs(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute(f'SELECT name FROM "{META_SCHEMA}".catalogs ORDER BY 1')
            return sorted([SYSTEM_CATALOG, *(r[0] for r in rows.fetchall())])

    def create_schema(self, catalog: str, schema: str) -> None:
        with self._lock:
            self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{duck_schema(catalog, schema)}"')

    def schema_exists(self, catalog: str, schema: str) -> bool:
        with self._lock:
            return bool(
                self._conn.execute(
                    "SELECT 1 FROM duckdb_schemas() WHERE schema_name = ?",
                    [duck_schema(catalog, schema)],
                ).fetchall()
            )

    def schemas(self, catalog: str) -> list[str]:
        prefix = f"{catalog.lower()}."
        with self._lock:
            rows = self._conn.execute(
                "SELECT schema_name FROM duckdb_schemas() WHERE starts_with(schema_name, ?) "
                "ORDER BY 1",
                [prefix],
            ).fetchall()
        return [r[0][len(prefix) :] for r in rows]

    # -- tables ---------------------------------------------------------------------------
    def record_table(
        self,
        catalog: str,
        schema: str,
        name: str,
        *,
        provider: str,
        clustering: list[str],
        partitioning: list[str],
        properties: dict[str, str],
        comment: str | None,
    ) -> None:
        props = {**DELTA_DEFAULT_PROPERTIES, **properties} if provider == "delta" else properties
        with self._lock:
            self._conn.execute(
                f'INSERT OR REPLACE INTO "{META_SCHEMA}".tables VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [
                    catalog.lower(),
                    schema.lower(),
                    name.lower(),
                    provider,
                    json.dumps(clustering),
                    json.dumps(partitioning),
                    json.dumps(props),
                    comment,
                    datetime.now(UTC),
                ],
            )

    def forget_table(self, catalog: str, schema: str, name: str) -> None:
        with self._lock:
            self._conn.execute(
                f'DELETE FROM "{META_SCHEMA}".tables WHERE catalog = ? AND schema = ? AND name = ?',
                [catalog.lower(), schema.lower(), name.lower()],
            )

    def forget_schema(self, catalog: str, schema: str) -> None:
        with self._lock:
            for table in ("tables", "volumes"):
                self._conn.execute(
                    f'DELETE FROM "{META_SCHEMA}".{table} WHERE catalog = ? AND schema = ?',
                    [catalog.lower(), schema.lower()],
                )

    def table_settings(self, catalog: str, schema: str, name: str) -> dict | None:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT provider, clustering, partitioning, properties, comment, created_at "
                f'FROM "{META_SCHEMA}".tables WHERE catalog = ? AND schema = ? AND name = ?',
                [catalog.lower(), schema.lower(), name.lower()],
            ).fetchall()
        if not rows:
            return None
        provider, clustering, partitioning, properties, comment, created_at = rows[0]
        return {
            "provider": provider,
            "clustering_columns": json.loads(clustering),
            "partition_columns": json.loads(partitioning),
            "properties": json.loads(properties),
            "comment": comment,
            "created_at": created_at,
        }

    def set_properties(self, catalog: str, schema: str, name: str, props: dict[str, str]) -> None:
        settings = self.table_settings(catalog, schema, name) or {
            "provider": "delta",
            "clustering_columns": [],
            "partition_columns": [],
            "properties": {},
            "comment": None,
        }
        self.record_table(
            catalog,
            schema,
            name,
            provider=settings["provider"],
            clustering=settings["clustering_columns"],
            partitioning=settings["partition_columns"],
            properties={**settings["properties"], **props},
            comment=settings["comment"],
        )

    def columns(self, catalog: str, schema: str, name: str) -> list[tuple[str, str, bool]]:
        """(column name, DuckDB type, nullable) in table order; empty if no such table."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
                [duck_schema(catalog, schema), name.lower()],
            ).fetchall()
        return [(r[0], r[1], bool(r[2])) for r in rows]

    def schema_columns(self, catalog: str, schema: str) -> dict[str, list[tuple[str, str, bool]]]:
        """{table or view: [(column, DuckDB type, nullable), ...]} of one schema, in one query."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
                "WHERE schema_name = ? ORDER BY table_name, column_index",
                [duck_schema(catalog, schema)],
            ).fetchall()
        tables: dict[str, list[tuple[str, str, bool]]] = {}
        for table, column, dtype, nullable in rows:
            tables.setdefault(table, []).append((column, dtype, bool(nullable)))
        return tables

    def relations(self, catalog: str | None = None) -> list[dict]:
        """Every table and view (of one catalog, or all), with what information_schema shows."""
        with self._lock:
            found = self._conn.execute(
                f"""SELECT r.schema_name, r.name, r.is_view, r.definition, m.provider, m.comment,
                       m.created_at
                FROM (SELECT schema_name, table_name AS name, false AS is_view, NULL AS definition
                      FROM duckdb_tables() UNION ALL
                      SELECT schema_name, view_name, true, sql FROM duckdb_views()
                      WHERE NOT internal) AS r
                LEFT JOIN "{META_SCHEMA}".tables AS m
                  ON r.schema_name = m.catalog || '.' || m.schema AND r.name = m.name
                WHERE contains(r.schema_name, '.') ORDER BY 1, 2"""
            ).fetchall()
        out = []
        for duck_sch, name, is_view, definition, provider, comment, created_at in found:
            cat, schema = duck_sch.split(".", 1)
            if catalog in (None, cat):
                out.append(
                    {
                        "catalog": cat,
                        "schema": schema,
                        "name": name,
                        "view": is_view,
                        "definition": definition,
                        "provider": provider,
                        "comment": comment,
                        "created_at": created_at,
                    }
                )
        return out

    def all_columns(self, catalog: str | None = None) -> list[tuple]:
        """(catalog, schema, table, column, Databricks type, nullable, 0-based position) of
        every table and view (of one catalog, or all), in one query."""
        with self._lock:
            found = self._conn.execute(
                "SELECT schema_name, table_name, column_name, data_type, is_nullable, "
                "column_index FROM duckdb_columns() WHERE contains(schema_name, '.') "
                "ORDER BY schema_name, table_name, column_index"
            ).fetchall()
        out = []
        for duck_sch, table, column, dtype, nullable, index in found:
            cat, schema = duck_sch.split(".", 1)
            if catalog in (None, cat):
                out.append(
                    (cat, schema, table, column, databricks_type(dtype), bool(nullable), index - 1)
                )
        return out

    def tables(self) -> list[dict]:
        """Every table with its Delta settings and columns (for GET /sandbox/tables)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE contains(schema_name, '.') ORDER BY 1, 2"
            ).fetchall()
        result = []
        for duck_sch, name in rows:
            catalog, schema = duck_sch.split(".", 1)
            settings = self.table_settings(catalog, schema, name) or {}
            settings.pop("created_at", None)
            result.append(
                {
                    "catalog": catalog,
                    "schema": schema,
                    "name": name,
                    "full_name": f"{catalog}.{schema}.{name}",
                    **settings,
                    "columns": [
                        {"name": c, "type": databricks_type(t), "nullable": n}
                        for c, t, n in self.columns(catalog, schema, name)
                    ],
                }
            )
        return result

    # -- volumes --------------------------------------------------------------------------
    def create_volume(self, catalog: str, schema: str, name: str) -> None:
        with self._lock:
            self._conn.execute(
                f'INSERT OR IGNORE INTO "{META_SCHEMA}".volumes VALUES (?, ?, ?)',
                [catalog.lower(), schema.lower(), name.lower()],
            )

    def drop_volume(self, catalog: str, schema: str, name: str) -> None:
        with self._lock:
            self._conn.execute(
                f'DELETE FROM "{META_SCHEMA}".volumes WHERE catalog = ? AND schema = ? AND name = ?',
                [catalog.lower(), schema.lower(), name.lower()],
            )

    def volume_exists(self, catalog: str, schema: str, name: str) -> bool:
        with self._lock:
            return bool(
                self._conn.execute(
                    f'SELECT 1 FROM "{META_SCHEMA}".volumes WHERE catalog = ? AND schema = ? '
                    "AND name = ?",
                    [catalog.lower(), schema.lower(), name.lower()],
                ).fetchall()
            )
