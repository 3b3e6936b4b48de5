"""Warehouse adapters: where the statements of `sql.py` are executed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_databricks_upsert.settings import DEFAULT_WAREHOUSE
from target_databricks_upsert.warehouse.base import Warehouse


def warehouse_class(config: Mapping[str, Any]) -> type[Warehouse]:
    """The adapter named by the `warehouse` setting (its module imported only when chosen)."""
    kind = config.get("warehouse", DEFAULT_WAREHOUSE)
    if kind == "duckdb":
        from target_databricks_upsert.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse
    if kind == "databricks":
        from target_databricks_upsert.warehouse.databricks import DatabricksWarehouse

        return DatabricksWarehouse
    raise ValueError(f"setting warehouse: unknown value {kind!r}; use 'duckdb' or 'databricks'")


def open_warehouse(config: Mapping[str, Any]) -> Warehouse:
    """The adapter named by the `warehouse` setting, connected."""
    warehouse = warehouse_class(config).from_config(config)
    warehouse.connect()
    return warehouse


__all__ = ["Warehouse", "open_warehouse", "warehouse_class"]
