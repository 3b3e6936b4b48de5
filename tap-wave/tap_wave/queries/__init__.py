"""The tap's GraphQL documents: one `.graphql` file per operation, fragments shared.

`assemble(name)` builds the operation in `<name>.graphql` followed by every fragment it uses
(directly or through other fragments), wherever that fragment is defined in this folder.
Unused fragments are left out because GraphQL servers reject them.

A run does not assemble them: `document(name)` reads them from `documents.json`, built by
`python -m tap_wave.queries` from the `.graphql` files (tests/test_queries.py fails while it is
out of date). So the tap's start never imports graphql-core, a tenth of a second of every
webhook-targeted run; the assembling below imports it only when called.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphql import DefinitionNode, FragmentDefinitionNode

BUILT = "documents.json"


def _files() -> dict[str, str]:
    folder = resources.files(__package__)
    return {
        entry.name.removesuffix(".graphql"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".graphql")
    }


@functools.cache
def _fragment_pool() -> dict[str, FragmentDefinitionNode]:
    from graphql import FragmentDefinitionNode, parse

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


def _spreads(node: DefinitionNode) -> set[str]:
    from graphql import FragmentSpreadNode, Visitor, visit

    class SpreadCollector(Visitor):
        def __init__(self) -> None:
            super().__init__()
            self.names: set[str] = set()

        def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
            self.names.add(node.name.value)

    collector = SpreadCollector()
    visit(node, collector)
    return collector.names


def operation_names() -> list[str]:
    """Names of the files that hold an operation (the documents the tap sends)."""
    from graphql import OperationDefinitionNode, parse

    return sorted(
        name
        for name, text in _files().items()
        if any(isinstance(d, OperationDefinitionNode) for d in parse(text).definitions)
    )


@functools.cache
def _built() -> dict[str, str]:
    built = json.loads((resources.files(__package__) / BUILT).read_text(encoding="utf-8"))
    if not isinstance(built, dict):
        msg = f"{BUILT} holds no documents: run python -m tap_wave.queries"
        raise TypeError(msg)
    return {str(name): str(text) for name, text in built.items()}


def document(name: str) -> str:
    """The complete document the tap sends for the operation in `<name>.graphql`."""
    built = _built()
    if name not in built:
        msg = f"no GraphQL document named {name!r}; known: {', '.join(sorted(built))}"
        raise KeyError(msg)
    return built[name]


def assemble(name: str) -> str:
    """The complete document for the operation in `<name>.graphql`, from the `.graphql` files."""
    from graphql import DocumentNode, OperationDefinitionNode, parse, print_ast

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


def build() -> dict[str, str]:
    """Every operation's document, assembled from the `.graphql` files (what documents.json
    must hold)."""
    return {name: assemble(name) for name in operation_names()}


def write_built() -> Path:
    """Rebuild documents.json from the `.graphql` files (`python -m tap_wave.queries`)."""
    path = Path(__file__).with_name(BUILT)
    path.write_text(json.dumps(build(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
