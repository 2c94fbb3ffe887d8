"""The checkout pays with its payment's client secret only (Debian's Chromium, the local
runtime, no stubs): a manual Smart Glocal e-wallet payment is created through the merchant
proxy (the one call made with the merchant's key, which the proxy holds), confirmed, resumed
after a reload and paid. Every request the page makes is recorded: none carries the merchant
key, and every one about the payment carries its client secret in `x-api-key`. Screenshots
go to test-artifacts/browser/<test>/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, Request, Response, expect

from tools.launcher import Runtime

from .conftest import Shots

CUSTOMER = {"email": "buyer@example.com", "full_name": "Nguyen Van A", "document": "012345678901"}


def test_the_checkout_pays_with_only_its_client_secret(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    requests: list[tuple[str, str, dict[str, str]]] = []
    created: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        requests.append((request.method, request.url, request.all_headers()))

    def answered(response: Response) -> None:
        if response.request.method == "POST" and response.url.endswith(
            "/merchant/payments/smartglocal"
        ):
            created.append(response.json())

    page.context.on("request", record)
    page.on("response", answered)
    page.goto(f"{runtime.api_url}/checkout/?dev=1&lang=en")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#method-smartglocal").check()
    page.locator("#confirmation").select_option("manual")
    for name, value in CUSTOMER.items():
        page.locator(f'#customer-fields input[name="{name}"]').fill(value)
    page.get_by_role("button", name="Pay", exact=True).click()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "requires_confirmation")
    shots(page, "requires-confirmation")
    (payment,) = created
    secret = payment["client_secret"]
    assert secret.startswith(f"{payment['id']}_secret_")

    page.get_by_role("button", name="Confirm payment").click()
    expect(status).to_have_attribute("data-status", "requires_action")
    page.reload()  # resumes with the secret this tab kept
    expect(status).to_have_attribute("data-status", "requires_action")
    shots(page, "resumed-requires-action")
    link = page.locator("#next-action a").first
    with page.context.expect_page() as opened:
        link.click()
    provider = opened.value
    provider.wait_for_load_state()
    provider.get_by_role("button", name="Pay", exact=True).click()
    page.bring_to_front()
    expect(status).to_have_attribute("data-status", "succeeded")
    shots(page, "succeeded")

    ours = [(m, u, h) for m, u, h in requests if u.startswith(runtime.api_url)]
    assert ours, "the page made no request"
    for _, url, headers in ours:
        assert runtime.api_key not in url and runtime.api_key not in headers.values(), url
    about = [
        (m, u, h)
        for m, u, h in ours
        if re.search(rf"/merchant/payments/{re.escape(payment['id'])}(/|$)", u)
    ]
    kinds = {(m, u.rsplit("/", 1)[-1]) for m, u, _ in about}
    assert ("POST", "confirm") in kinds and ("GET", payment["id"]) in kinds, kinds
    for method, url, headers in about:
        assert headers.get("x-api-key") == secret, (method, url)
    (create,) = [h for m, u, h in ours if m == "POST" and u.endswith("/payments/smartglocal")]
    assert "x-api-key" not in create  # the proxy adds the key to the create alone
