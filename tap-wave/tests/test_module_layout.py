"""The tap's modules import each other without cycles (those under TYPE_CHECKING or inside
functions count too): each concern builds only on the ones below it."""

from __future__ import annotations

import ast
from pathlib import Path

import tap_wave

PACKAGE = Path(tap_wave.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["tap_wave", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """tap_wave module -> the tap_wave modules it imports."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name and m != "tap_wave"}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            if cycle := visit(imported, [*path, module]):
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        if cycle := visit(module, []):
            return cycle
    return None


def test_no_module_of_the_tap_imports_one_that_imports_it_back():
    graph = _imports()
    assert "tap_wave.streams" in graph["tap_wave.tap"]  # the graph sees the imports
    assert "tap_wave.queries" in graph["tap_wave.wave_stream"]  # `from tap_wave import queries`
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
