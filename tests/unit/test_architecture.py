"""Layering rules: handlers are thin (no boto3, no DynamoDB); only the repository module
touches DynamoDB; only provider adapters speak provider wire formats."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.aws.provision import offline_environment
from local.aws.template import load_template

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))
LAYER = ROOT / "layers/core/paygate"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_there_are_handlers() -> None:
    assert len(HANDLERS) >= 4


def test_no_handler_imports_boto3_or_botocore() -> None:
    for handler in HANDLERS:
        bad = {m for m in imported_modules(handler) if m.split(".")[0] in {"boto3", "botocore"}}
        assert not bad, f"{handler.relative_to(ROOT)} imports {bad}"


def test_no_handler_mentions_dynamodb_calls() -> None:
    for handler in HANDLERS:
        text = handler.read_text(encoding="utf-8")
        for call in ("put_item", "get_item", "update_item", "transact_write", "query(", "Table("):
            assert call not in text, f"{handler.relative_to(ROOT)} calls {call}"


def test_only_the_repository_touches_dynamodb() -> None:
    for module in LAYER.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        if module.name == "repository.py":
            continue
        assert '"dynamodb"' not in text and "boto3.dynamodb" not in text, module


def test_only_provider_adapters_import_provider_wire_models() -> None:
    for module in LAYER.rglob("*.py"):
        relative = module.relative_to(LAYER).as_posix()
        if relative.startswith("providers/") or relative == "wiring.py":
            continue
        wire = {m for m in imported_modules(module) if m.startswith("paygate.providers")}
        assert not wire, f"{relative} imports {wire}"


@pytest.mark.early  # one of the longest tests: it starts first (tests/conftest.py)
def test_functions_load_only_their_own_provider_dependencies() -> None:
    """`cryptography` ships only with the Smart Glocal functions (their requirements.txt), so
    no other function may import it at cold start."""
    template = load_template()
    for function in template.functions():
        requirements = ROOT / function.code_uri / "requirements.txt"
        ships_crypto = requirements.exists() and "cryptography" in requirements.read_text()
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/core'}"}
        env.update(offline_environment(template, function))
        probe = f"import sys, {function.module}; print('cryptography' in sys.modules)"
        answer = subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        loaded = answer.stdout.strip().splitlines()[-1] == "True"
        assert not loaded or ships_crypto, f"{function.logical_id} imports cryptography"
