"""databricks_sandbox: a local stand-in for a Databricks SQL warehouse.

It speaks the Thrift-over-HTTP protocol of the real ``databricks-sql-connector``, runs the
Databricks SQL it receives on DuckDB, keeps Unity Catalog volume files on disk, and can inject the
faults loaders meet in production. Start it with the ``databricks-sandbox serve`` command or, in
tests, with :func:`databricks_sandbox.testing.start_databricks_sandbox`.
"""
