"""The layer's import graph has no cycle, and each audience's models sit where
docs/architecture.md says (the domain at the bottom: it imports no other paygate module but
the clock)."""

from __future__ import annotations

import ast
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core"


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(LAYER).with_suffix("").parts).removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    """Every paygate module → the paygate modules it imports (anywhere in the file, including
    function bodies and TYPE_CHECKING blocks: a lazy import does not make a cycle acceptable)."""
    raw: dict[str, set[str]] = {}
    for path in LAYER.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paygate"):
                module = str(node.module)
                names.add(module)
                names |= {f"{module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names if a.name.startswith("paygate")}
        raw[_module_name(path)] = names
    return {m: {n for n in names if n in raw and n != m} for m, names in raw.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        path.append(module)
        for dependency in sorted(graph[module]):
            if state.get(dependency) == 1:
                cycles.append([*path[path.index(dependency) :], dependency])
            elif dependency not in state:
                visit(dependency, path)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return cycles


def test_the_layer_has_no_import_cycle() -> None:
    assert find_cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_the_domain_is_the_bottom_of_the_graph() -> None:
    graph = import_graph()
    assert graph["paygate.domain"] <= {"paygate", "paygate.clock"}
    assert graph["paygate.clock"] <= {"paygate"}


def test_each_audience_has_its_own_module() -> None:
    graph = import_graph()
    assert "paygate.api_models" not in graph["paygate.events"]
    assert "paygate.api_models" not in graph["paygate.records"]
    assert {"paygate.models", "paygate.requests"}.isdisjoint(graph)
