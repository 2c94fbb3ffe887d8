"""/docs renders Swagger UI (its files served locally) for the runtime's /openapi.json."""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tools.launcher import ROOT, Runtime

from .conftest import Shots


def checked_in() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())
    return document


def test_openapi_json_is_served_and_matches_the_checked_in_document(runtime: Runtime) -> None:
    answer = httpx.get(f"{runtime.api_url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    served = answer.json()
    expected = checked_in()
    assert served["servers"][0]["url"] == runtime.api_url
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in expected.items() if k != "servers"
    }


def test_swagger_ui_renders_every_operation(page: Page, runtime: Runtime, shots: Shots) -> None:
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(runtime.api_url) else outside.append(request.url)
        ),
    )
    page.goto(f"{runtime.api_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("paygate")
    operations = sum(len(ops) for ops in checked_in()["paths"].values())
    expect(page.locator(".swagger-ui .opblock")).to_have_count(operations)
    expect(page.locator(".swagger-ui .btn.authorize")).to_be_visible()
    expect(page.get_by_text("/v1/payments/{id}", exact=True)).to_be_visible()
    shots(page, "swagger-ui")
    page.locator(".opblock-summary-path", has_text="/v1/paypro/payments").first.click()
    opened = page.locator(".opblock.is-open")
    expect(opened).to_contain_text("Request body")
    expect(opened).to_contain_text("merchant_reference")
    shots(page, "swagger-ui-operation")
    assert outside == [], f"the docs page fetched from elsewhere: {outside}"
