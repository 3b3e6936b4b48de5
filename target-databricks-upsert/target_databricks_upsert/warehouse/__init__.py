"""Warehouse adapters: where the statements of `sql.py` are executed."""

from __future__ import annotations

from target_databricks_upsert.warehouse.base import Warehouse

# DuckDB's memory limit (the `duckdb_memory_limit` default). With the adapter's frequent
# checkpoints, a re-sync of 1,000,000 invoices (every batch an update) runs in 48MB; 40MB ran out.
DEFAULT_DUCKDB_MEMORY_LIMIT = "48MB"


def warehouse_class(config) -> type[Warehouse]:
    """The adapter named by the `warehouse` setting (its module imported only when chosen)."""
    kind = config.get("warehouse", "duckdb")
    if kind == "duckdb":
        from target_databricks_upsert.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse
    if kind == "databricks":
        from target_databricks_upsert.warehouse.databricks import DatabricksWarehouse

        return DatabricksWarehouse
    raise ValueError(f"setting warehouse: unknown value {kind!r}; use 'duckdb' or 'databricks'")


def open_warehouse(config: dict) -> Warehouse:
    """The adapter named by the `warehouse` setting, connected."""
    warehouse = warehouse_class(config).from_config(config)
    warehouse.connect()
    return warehouse


__all__ = ["Warehouse", "open_warehouse", "warehouse_class"]
