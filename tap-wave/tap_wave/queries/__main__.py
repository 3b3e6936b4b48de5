"""`python -m tap_wave.queries`: rebuild documents.json after changing a `.graphql` file."""

from tap_wave.queries import write_built

print(f"wrote {write_built()}")
