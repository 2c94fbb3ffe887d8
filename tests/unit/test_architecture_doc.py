"""docs/architecture.md matches the tree: every layer module stands in exactly one tier of the
layer map, every import inside the layer is one the map allows, every function folder is in
the functions table, and every path the page names exists."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

from tests.unit.test_layer_imports import import_graph

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
TICKED = re.compile(r"`([^`]+)`")


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def layer_map(text: str) -> dict[str, tuple[list[str], set[str]]]:
    """tier → (module patterns, tiers it may import), from the table between the markers."""
    block = text.split("<!-- layer-map:start -->")[1].split("<!-- layer-map:end -->")[0]
    tiers: dict[str, tuple[list[str], set[str]]] = {}
    for row in block.strip().splitlines()[2:]:
        tier, modules, _owns, may_import = _cells(row)
        allowed = {name.strip() for name in may_import.split(",")}
        tiers[tier] = (TICKED.findall(modules), allowed)
    return tiers


def tier_of(module: str, tiers: dict[str, tuple[list[str], set[str]]]) -> list[str]:
    short = module.removeprefix("paygate.")
    return [
        tier
        for tier, (patterns, _) in tiers.items()
        if any(
            short == p or fnmatch(short, p) or (p.endswith(".*") and short == p[:-2])
            for p in patterns
        )
    ]


def map_violations(graph: dict[str, set[str]], text: str) -> list[str]:
    tiers = layer_map(text)
    problems: list[str] = []
    for module in sorted(m for m in graph if m != "paygate"):
        found = tier_of(module, tiers)
        if len(found) != 1:
            problems.append(f"{module}: in tiers {found} (must be in exactly one)")
    for module, imported in sorted(graph.items()):
        home = tier_of(module, tiers)
        if len(home) != 1:
            continue
        allowed = tiers[home[0]][1]
        for dependency in sorted(imported - {"paygate"}):
            there = tier_of(dependency, tiers)
            if len(there) == 1 and there[0] not in allowed:
                problems.append(f"{module} ({home[0]}) imports {dependency} ({there[0]})")
    return problems


def provider_violations(graph: dict[str, set[str]]) -> list[str]:
    """A provider package imports only itself and providers/http.py; the edge imports none."""
    problems: list[str] = []
    for module, imported in sorted(graph.items()):
        parts = module.split(".")
        for dependency in sorted(imported):
            if not dependency.startswith("paygate.providers."):
                continue
            if dependency == "paygate.providers.http":
                continue
            if parts[:2] == ["paygate", "providers"] and len(parts) > 2:
                if dependency.split(".")[2] != parts[2]:
                    problems.append(f"{module} imports another provider: {dependency}")
            elif module.removeprefix("paygate.") in {"api", "idempotency", "routes", "triggers"}:
                problems.append(f"{module} (edge) imports a provider: {dependency}")
    return problems


def test_every_layer_module_is_on_the_map_and_imports_only_what_it_may() -> None:
    assert map_violations(import_graph(), DOC.read_text()) == []


def test_providers_stay_apart_and_the_edge_imports_none() -> None:
    assert provider_violations(import_graph()) == []


def test_the_map_check_catches_a_module_off_the_map_and_a_forbidden_import() -> None:
    text = DOC.read_text()
    graph = import_graph()
    graph["paygate.newcomer"] = set()
    graph["paygate.domain"] = graph["paygate.domain"] | {"paygate.repository"}
    problems = map_violations(graph, text)
    assert "paygate.newcomer: in tiers [] (must be in exactly one)" in problems
    assert "paygate.domain (domain) imports paygate.repository (storage)" in problems
    crossed = {"paygate.providers.paypro.gateway": {"paygate.providers.platform.signing"}}
    assert provider_violations(crossed) == [
        "paygate.providers.paypro.gateway imports another provider: "
        "paygate.providers.platform.signing"
    ]


def test_every_function_folder_is_in_the_functions_table() -> None:
    text = DOC.read_text()
    table = text.split("## functions/")[1].split("## The layer")[0]
    named = {name for name in TICKED.findall(table) if "/" not in name and "." not in name}
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()}
    assert folders <= named, sorted(folders - named)


def _exists(name: str) -> bool:
    candidates = [ROOT, ROOT / "layers" / "core", ROOT / "layers" / "core" / "paygate"]
    return any((base / name.rstrip("/")).exists() for base in candidates)


def test_every_path_the_page_names_exists() -> None:
    names = {n for n in TICKED.findall(DOC.read_text()) if "/" in n and " " not in n}
    assert names, "the page names no paths"
    missing = sorted(n for n in names if not _exists(n))
    assert missing == []
