"""The merchant API's OpenAPI document, generated from the handlers' own models.

Every API function module named by template.yaml's routes has a Powertools resolver `app`;
each resolver describes its routes (request models, responses, path parameters). This module
imports them the way the local runtime does, merges their paths and components into one
document, and adds what no single handler knows: title, version (pyproject.toml), servers and
the `x-api-key` security scheme on the routes the template protects with an API key, and each
operation's request and answer examples (tools/openapi_examples.py: what Swagger UI's "Try it
out" sends, valid for that route).

    python -m tools.openapi > docs/openapi.json    # what `make openapi` runs
    python -m tools.openapi --check                # exit 1 when docs/openapi.json is stale

The checked-in docs/openapi.json is compared with a fresh one by tests/integration/
test_openapi.py; the local runtime serves the fresh one at /openapi.json (Swagger UI: /docs).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from local.aws.template import ApiRoute, Template, load_template
from tools.openapi_examples import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
LAYER_PATH = ROOT / "layers" / "core"
DOCUMENT_PATH = ROOT / "docs" / "openapi.json"
REGENERATE_COMMAND = "make openapi  (or: .venv/bin/python -m tools.openapi > docs/openapi.json)"
SECURITY_SCHEME = "ApiKey"
LOCAL_SERVER = {"url": "http://127.0.0.1:3000", "description": "Local runtime (`make run`)"}
AWS_SERVER = {
    "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
    "description": "Deployed stack (the `ApiUrl` output of `sam deploy`)",
    "variables": {
        "restApiId": {"default": "abcdef1234", "description": "API Gateway REST API id"},
        "region": {"default": "ap-southeast-1"},
        "stage": {"default": "dev", "description": "The stack's `Stage` parameter"},
    },
}
DESCRIPTION = (
    "One REST API for Vietnamese payment methods. Every `/v1` route needs the `x-api-key` "
    "header (missing or wrong: 403, answered by API Gateway). Bodies are snake_case JSON; "
    'errors are always `{"error": {"code", "message", "field"}}`. After a create, poll '
    "`GET /v1/payments/{id}` and render `next_action` (redirect, qr, bank_transfer_instructions) "
    "until the status is terminal. Webhook routes are called by the providers and "
    "authenticated by their signatures."
)
_PLACEHOLDER = "openapi-placeholder"


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def openapi_path(route: ApiRoute) -> str:
    """API Gateway's `/v1/payments/{id}` is already OpenAPI's path template syntax."""
    return route.path


def _prepare_import_environment(template: Template) -> None:
    """Handlers read their settings at import (cold start). Outside the runtime, give them
    placeholders: generating the document makes no AWS or provider call."""
    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))
    defaults = {
        "AWS_ACCESS_KEY_ID": "openapi",
        "AWS_SECRET_ACCESS_KEY": "openapi",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_REGION": "ap-southeast-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    parameters = template.parameter_defaults()
    for function in template.functions():
        for name, value in function.environment.items():
            if isinstance(value, dict) and parameters.get(value.get("Ref", "")) not in (None, ""):
                value = parameters[value["Ref"]]  # a template parameter: its default
            text = str(value) if isinstance(value, str | int | float) and value != "" else ""
            os.environ.setdefault(name, text or _PLACEHOLDER)


def api_modules(template: Template) -> list[str]:
    """The handler modules of the template's API routes, in template order, once each."""
    by_id = {function.logical_id: function for function in template.functions()}
    modules: list[str] = []
    for route in template.routes():
        module = by_id[route.function_id].module
        if module not in modules:
            modules.append(module)
    return modules


def _merge_component(target: dict[str, Any], name: str, value: Any, where: str) -> None:
    if name in target and target[name] != value:
        raise ValueError(f"OpenAPI component {name!r} differs between handlers ({where})")
    target[name] = value


def build_document(template: Template | None = None) -> dict[str, Any]:
    """The merged OpenAPI 3.1 document for every API route in the template."""
    template = template or load_template()
    _prepare_import_environment(template)
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    for module_name in api_modules(template):
        app = importlib.import_module(module_name).app
        schema = json.loads(app.get_openapi_json_schema(title="paygate"))
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if method in paths.get(path, {}):
                    raise ValueError(f"{method.upper()} {path} is served by two handlers")
                paths.setdefault(path, {})[method] = operation
        for kind, entries in schema.get("components", {}).items():
            for name, value in entries.items():
                _merge_component(components.setdefault(kind, {}), name, value, module_name)

    routes = {(route.method.lower(), openapi_path(route)): route for route in template.routes()}
    merchant_authorizers = template.lambda_authorizers()  # x-api-key: a key or client secret
    for (method, path), route in routes.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            raise ValueError(f"{route.method} {route.path} (template) has no handler route")
        if route.api_key_required or route.authorizer in merchant_authorizers:
            operation["security"] = [{SECURITY_SCHEME: []}]
    extra = [(m, p) for p, ops in paths.items() for m in ops if (m, p) not in routes]
    if extra:
        raise ValueError(f"handler routes missing from template.yaml: {extra}")

    add_examples(paths)
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "A merchant API key with the route's scope (local: `local-dev-key`), or "
        "a payment's `client_secret` for reading, confirming or cancelling that payment",
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "paygate", "version": project_version(), "description": DESCRIPTION},
        "servers": [LOCAL_SERVER, AWS_SERVER],
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            kind: {name: entries[name] for name in sorted(entries)}
            for kind, entries in sorted(components.items())
        },
    }


def add_examples(paths: dict[str, dict[str, Any]]) -> None:
    """Each operation with a JSON body gets its named request examples (the first is what "Try
    it out" sends) and, on the status each answers with, the answer."""
    for (method, path), examples in EXAMPLES.items():
        operation = paths[path][method.lower()]
        request = operation["requestBody"]["content"]["application/json"]
        request["examples"] = {e.name: {"summary": e.summary, "value": e.request} for e in examples}
        for example in examples:
            answer = operation["responses"][str(example.status)]["content"]["application/json"]
            named = answer.setdefault("examples", {})
            named[example.name] = {"summary": example.summary, "value": example.answer}
    bare = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
        and (method.upper(), path) not in EXAMPLES
        and not path.startswith("/webhooks/")
    ]
    if bare:
        raise ValueError(f"no request example in tools/openapi_examples.py for {bare}")


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def for_server(document: dict[str, Any], url: str) -> dict[str, Any]:
    """The document with `url` (the running runtime) as its first server."""
    servers = [{"url": url, "description": "This local runtime"}, AWS_SERVER]
    return {**document, "servers": servers}


def create_routes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`POST /v1/<provider>/payments` operations by provider: the payment methods on offer."""
    found = {}
    for path, operations in document["paths"].items():
        match = re.fullmatch(r"/v1/([a-z0-9_-]+)/payments", path)
        if match and "post" in operations:
            found[match.group(1)] = operations["post"]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with docs/openapi.json")
    args = parser.parse_args(argv)
    # Handlers log at import; keep stdout for the document only.
    stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        text = render(build_document())
    finally:
        sys.stdout = stdout
    if args.check:
        current = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
        if current != text:
            print(f"docs/openapi.json is stale: run {REGENERATE_COMMAND}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
