"""Wave's GraphQL schema as the sandbox serves it: the 2024 SDL plus the live additions.

The live-additions file ends with a commented override (lines starting ``#~ ``) that adds
``Query.businesses(isArchived:)``; SDL extensions cannot add an argument to an existing field,
so the override is un-commented here and the schema is built with ``assume_valid_sdl=True``
(graphql-core keeps the later definition), as ``schema/SOURCE.md`` explains.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from graphql import GraphQLSchema, build_schema

BASE_SDL = "wave_api_schema_20240728.graphql"
LIVE_ADDITIONS_SDL = "wave_api_schema_live_additions.graphql"
OVERRIDE_PREFIX = "#~ "


def _read(name: str) -> str:
    return resources.files("wave_sandbox").joinpath("schema", name).read_text(encoding="utf-8")


def with_overrides_applied(sdl: str) -> str:
    """Un-comment the ``#~ `` override lines of the live-additions file."""
    return "\n".join(
        line[len(OVERRIDE_PREFIX) :] if line.startswith(OVERRIDE_PREFIX) else line
        for line in sdl.splitlines()
    )


def sandbox_sdl() -> str:
    """The full SDL text the sandbox executes against."""
    return _read(BASE_SDL) + "\n" + with_overrides_applied(_read(LIVE_ADDITIONS_SDL))


@cache
def wave_schema() -> GraphQLSchema:
    """Build (once per process) the executable schema; resolvers are attached by the server."""
    return build_schema(sandbox_sdl(), assume_valid_sdl=True)
