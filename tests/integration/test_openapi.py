"""docs/openapi.json is what the handlers generate (regenerate with `make openapi`), and it
describes every API route of template.yaml with the API key where the template requires one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.aws.template import load_template
from local.merchant.proxy import offered_methods
from tools.openapi import REGENERATE_COMMAND, project_version

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def generated() -> str:
    """`python -m tools.openapi` in a clean process, exactly as `make openapi` runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "tools.openapi"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_checked_in_document_matches_the_code(generated: str) -> None:
    current = CHECKED_IN.read_text(encoding="utf-8") if CHECKED_IN.exists() else ""
    assert current == generated, (
        f"docs/openapi.json differs from what the handlers generate: run {REGENERATE_COMMAND}"
    )


def test_check_flag_agrees(generated: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.openapi", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    stale = CHECKED_IN.read_text(encoding="utf-8") != generated
    assert done.returncode == (1 if stale else 0), done.stderr


def test_every_template_route_is_documented_with_its_security(generated: str) -> None:
    document: dict[str, Any] = json.loads(generated)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "paygate"
    assert document["info"]["version"] == project_version()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": document["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    routes = load_template().routes()
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert documented == {(r.method.lower(), r.path) for r in routes}
    merchant = load_template().lambda_authorizers()
    for route in routes:
        operation = document["paths"][route.path][route.method.lower()]
        keyed = route.authorizer in merchant
        assert not route.api_key_required  # no usage-plan keys: the authorizer checks x-api-key
        assert ("security" in operation) == keyed, route.path
        assert keyed <= route.path.startswith("/v1/"), route.path


def test_every_reference_resolves(generated: str) -> None:
    document = json.loads(generated)
    refs = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    schemas = document["components"]["schemas"]
    assert refs, "the document has no references at all"
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref


def test_the_checkout_offers_each_create_route_with_its_required_fields(generated: str) -> None:
    methods = offered_methods(json.loads(generated), {"vietqr": 50_000})
    by_provider = {entry["provider"]: entry for entry in methods}
    providers = {
        r.path.split("/")[2]
        for r in load_template().routes()
        if r.method == "POST" and r.path.startswith("/v1/") and r.path.endswith("/payments")
    }
    assert set(by_provider) == providers
    assert by_provider["paypro"] == {
        "key": "paypro",
        "provider": "paypro",
        "method": "vietqr",
        "summary": "Create a VietQR payment (Paypro)",
        "minimum_amount": 50_000,
        "customer_fields": [],
        "confirmation": [],
    }
    by_key = {entry["key"]: entry for entry in methods}
    # ecommpay offers two methods; both go to the hosted Payment Page, whose customer fields
    # come from the docs (the merchant adds the customer id itself).
    assert by_key["ecommpay-napas_atm"]["customer_fields"] == ["email", "phone"]
    assert by_key["ecommpay-nganluong_wallet"]["customer_fields"] == ["email", "phone"]
    assert by_key["monetix"]["customer_fields"] == ["first_name", "last_name", "email"]
