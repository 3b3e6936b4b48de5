"""``python -m databricks_sandbox`` = the ``databricks-sandbox`` command."""

from .cli import main

main()
