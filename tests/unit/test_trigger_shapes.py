"""Every shape in `paygate/triggers.py` serves a function: a shape no `functions/*/app.py`
builds its handler with is dead code (the sequential reconcile job's was removed)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRIGGERS = ROOT / "layers/core/paygate/triggers.py"


def shapes() -> set[str]:
    tree = ast.parse(TRIGGERS.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }


def used_by_functions() -> set[str]:
    used: set[str] = set()
    for app in (ROOT / "functions").glob("*/app.py"):
        for node in ast.walk(ast.parse(app.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "triggers"
            ):
                used.add(node.attr)
    return used


def test_every_trigger_shape_builds_a_functions_handler() -> None:
    assert shapes(), TRIGGERS
    assert shapes() - used_by_functions() == set()
