"""A stand-in for the ``meltano`` package, found first through PYTHONPATH (see cli.py)."""
