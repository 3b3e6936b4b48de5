"""Mutations (placeholder until the write side lands)."""

from __future__ import annotations


def attach_mutation_resolvers(schema) -> None:
    return None
