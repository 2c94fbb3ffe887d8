"""Swagger UI's "Try it out" on /docs works as a newcomer uses it: authorize with the API key,
open POST /v1/paypro/payments, keep the default body (the document's first example), give an
Idempotency-Key, Execute: 201, a Paypro VietQR payment."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, expect

from tools.launcher import Runtime

from .conftest import Shots

OPERATION = "#operations-payments-create_payment_v1_paypro_payments_post"


def test_try_it_out_with_the_default_body_creates_the_payment(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    page.goto(f"{runtime.api_url}/docs")
    page.locator(".swagger-ui .btn.authorize").click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input").first.fill(runtime.api_key)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()
    operation = page.locator(OPERATION)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("tr[data-param-name='idempotency-key'] input").fill(uuid.uuid4().hex)
    sent = operation.locator("textarea.body-param__text")
    assert json.loads(sent.input_value())["amount"] >= 50_000  # the example, not amount 1
    operation.locator("button.execute").click()
    answer = operation.locator(".live-responses-table .response")
    expect(answer.locator(".response-col_status").first).to_have_text("201", timeout=20_000)
    body = json.loads(answer.locator(".response-col_description pre").first.inner_text())
    assert (body["provider"], body["method"], body["status"]) == (
        "paypro", "vietqr", "requires_action",
    )  # fmt: skip
    shots(page, "swagger-try-it-out")
