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
        loaded = "cryptography" in cold_start_modules(function.module)
        assert not loaded or ships_crypto, f"{function.logical_id} imports cryptography"


def cold_start_modules(module: str) -> set[str]:
    """The modules importing a function's module loads (its environment offline)."""
    template = load_template()
    function = next(f for f in template.functions() if f.module == module)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/core'}"}
    env.update(offline_environment(template, function))
    probe = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    answer = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return set(answer.stdout.strip().splitlines()[-1].split())


def test_route_shapes_load_only_what_each_function_needs() -> None:
    """`paygate.routes` imports the idempotency store for creates alone and no provider
    module; the request bodies are built by the functions that accept one;
    `paygate.triggers` loads no resolver: a webhook or a read keeps its cold start."""
    webhook = cold_start_modules("functions.ecommpay_webhook.app")
    read = cold_start_modules("functions.get_payment.app")
    create = cold_start_modules("functions.monetix_create_payment.app")
    stream = cold_start_modules("functions.publish_status.app")
    assert "paygate.idempotency" not in webhook | read and "paygate.idempotency" in create
    assert "httpx" not in webhook | read | create  # httpx waits for the first provider call
    assert not {m for m in read if m.startswith("paygate.providers")}
    assert "paygate.json_body" not in read and "paygate.json_body" in webhook
    assert "paygate.api_requests" not in webhook | read and "paygate.api_requests" in create
    assert "paygate.api" not in stream and "paygate.routes" not in stream
    assert "aws_lambda_powertools.utilities.parser" not in stream  # batch before pydantic
