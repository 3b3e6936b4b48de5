"""databricks_sandbox."""
