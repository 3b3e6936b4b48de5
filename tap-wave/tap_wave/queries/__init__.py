"""The tap's GraphQL documents: one `.graphql` file per operation, fragments shared.

`document(name)` returns the operation in `<name>.graphql` followed by every fragment it uses
(directly or through other fragments), wherever that fragment is defined in this folder.
Unused fragments are left out because GraphQL servers reject them.
"""

from __future__ import annotations

import functools
from importlib import resources

from graphql import (
    DefinitionNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)


def _files() -> dict[str, str]:
    folder = resources.files(__package__)
    return {
        entry.name.removesuffix(".graphql"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".graphql")
    }


@functools.cache
def _fragment_pool() -> dict[str, FragmentDefinitionNode]:
    pool: dict[str, FragmentDefinitionNode] = {}
    for name, text in _files().items():
        for definition in parse(text).definitions:
            if isinstance(definition, FragmentDefinitionNode):
                fragment = definition.name.value
                if fragment in pool:
                    msg = f"fragment {fragment} is defined twice (again in {name}.graphql)"
                    raise ValueError(msg)
                pool[fragment] = definition
    return pool


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def _spreads(node: DefinitionNode) -> set[str]:
    collector = _SpreadCollector()
    visit(node, collector)
    return collector.names


def operation_names() -> list[str]:
    """Names of the files that hold an operation (the documents the tap sends)."""
    return sorted(
        name
        for name, text in _files().items()
        if any(isinstance(d, OperationDefinitionNode) for d in parse(text).definitions)
    )


@functools.cache
def document(name: str) -> str:
    """The complete document for the operation in `<name>.graphql`."""
    files = _files()
    if name not in files:
        msg = f"no GraphQL document named {name!r}; known: {', '.join(operation_names())}"
        raise KeyError(msg)
    operations = [
        d for d in parse(files[name]).definitions if isinstance(d, OperationDefinitionNode)
    ]
    if len(operations) != 1:
        msg = f"{name}.graphql must hold exactly one operation, found {len(operations)}"
        raise ValueError(msg)
    pool = _fragment_pool()
    needed: list[str] = []
    pending = sorted(_spreads(operations[0]))
    while pending:
        fragment = pending.pop()
        if fragment in needed:
            continue
        if fragment not in pool:
            msg = f"{name}.graphql uses fragment {fragment}, which no .graphql file defines"
            raise KeyError(msg)
        needed.append(fragment)
        pending.extend(sorted(_spreads(pool[fragment])))
    definitions = [operations[0], *(pool[f] for f in sorted(needed))]
    return print_ast(DocumentNode(definitions=tuple(definitions)))
