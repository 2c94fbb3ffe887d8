"""The provider sandboxes are independent witnesses: no module under local/sandboxes/ imports
the gateway (`paygate`) or the rest of the local runtime (`local.*` outside `local.sandboxes`),
so a mistake in the gateway's reading of a provider's docs cannot be copied into a sandbox."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SANDBOXES = Path(__file__).parents[2] / "local" / "sandboxes"
PACKAGE = "local.sandboxes"


def forbidden_imports(source: str, module: str = f"{PACKAGE}.x") -> list[str]:
    """The imports of `source` (the module `module`) that reach outside the sandboxes."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = module.split(".")[: -node.level]
                names = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                names = [node.module or ""]
        else:
            continue
        found += [name for name in names if _outside(name)]
    return found


def _outside(name: str) -> bool:
    top = name.split(".")[0]
    if top == "paygate":
        return True
    return top == "local" and not (name == PACKAGE or name.startswith(f"{PACKAGE}."))


def sandbox_modules() -> list[Path]:
    return sorted(SANDBOXES.rglob("*.py"))


def test_there_are_sandbox_modules_to_check() -> None:
    names = {path.stem for path in sandbox_modules()}
    assert {"paypro", "platform", "smartglocal", "outbox", "signatures"} <= names


@pytest.mark.parametrize("path", sandbox_modules(), ids=lambda p: p.name)
def test_sandbox_module_imports_nothing_of_the_gateway_or_runtime(path: Path) -> None:
    relative = path.relative_to(SANDBOXES.parents[1]).with_suffix("")
    assert forbidden_imports(path.read_text(), ".".join(relative.parts)) == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("import paygate", ["paygate"]),
        ("from paygate.providers.paypro import signing", ["paygate.providers.paypro"]),
        ("from local.clock import Timers", ["local.clock"]),
        ("import local.run as run", ["local.run"]),
        ("from .. import clock", ["local"]),
        ("from ..aws.clock import LocalClock", ["local.aws.clock"]),
        ("def f():\n    from paygate.masking import mask_pan", ["paygate.masking"]),
        ("from local.sandboxes.http import Reply", []),
        ("from . import outbox", []),
        ("from .timing import Timers", []),
        ("import httpx, json", []),
    ],
)
def test_the_checker_catches_outside_imports(snippet: str, expected: list[str]) -> None:
    assert forbidden_imports(snippet) == expected
