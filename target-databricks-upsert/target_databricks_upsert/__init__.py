"""target_databricks_upsert."""
