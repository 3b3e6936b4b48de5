"""Pytest fixtures that start the sandboxes (registered through the pytest11 entry point)."""
