"""What the two sandboxes share that is not about Wave or Databricks: running them as processes."""
