"""The checkout page in a real browser (Debian's Chromium) against the local runtime: each
payment method the template offers is paid in its provider sandbox (ecommpay and Monetix on
their hosted Payment Page), one is declined, and next actions the checkout's own flows do not
reach (bank-transfer instructions, which the Monetix sandbox sends on the Gate flow, a POST
redirect, the confirmation step) are rendered from answers stubbed at the merchant proxy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import segno
from playwright.sync_api import Page, Request, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from local.aws.template import load_template
from tests.support.qr_svg import QR_TEXTS, modules
from tools.launcher import Runtime

from .conftest import Shots, fits_viewport

# Every provider with a create route in template.yaml: the page offers exactly these (ecommpay
# once per method: its option keys are `ecommpay-<method>`).
PROVIDERS = sorted(
    match.group(1)
    for route in load_template().routes()
    if route.method == "POST" and (match := re.fullmatch(r"/v1/([a-z0-9_-]+)/payments", route.path))
)
OPTIONS = sorted(
    option
    for provider in PROVIDERS
    for option in (
        [f"{provider}-napas_atm", f"{provider}-nganluong_wallet"]
        if provider == "ecommpay"
        else [provider]
    )
)
CUSTOMER = {
    "email": "buyer@example.com",
    "full_name": "Nguyen Van A",
    "document": "012345678901",
    "phone": "84438336996",
    "first_name": "An",
    "last_name": "Nguyen",
}


def open_checkout(page: Page, runtime: Runtime, query: str = "") -> None:
    page.goto(f"{runtime.api_url}/checkout/{query}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def fill_customer(page: Page) -> None:
    for field in page.locator("#customer-fields input").all():
        name = field.get_attribute("name") or ""
        field.fill(CUSTOMER.get(name, "test"))


def start_payment(page: Page, runtime: Runtime, option: str, shots: Shots) -> dict[str, Any]:
    provider = option.split("-")[0]
    open_checkout(page, runtime)
    page.locator(f"#method-{option}").check()
    page.get_by_label("Amount (VND)").fill("100000")
    fill_customer(page)
    fits_viewport(page)
    shots(page, "order-form")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#payment-title")).to_be_focused()
    payment_id = page.locator("#payment-id").inner_text()
    with runtime.client() as client:
        payment: dict[str, Any] = client.get(f"/v1/payments/{payment_id}").json()
    assert payment["provider"] == provider and payment["amount"] == 100000
    return payment


def follow_next_action(page: Page, runtime: Runtime, shots: Shots, payment_id: str) -> Page:
    """Wait for the next action, check its QR code and open the provider's page."""
    link = page.get_by_role("link", name="Open the payment page")
    expect(link).to_be_visible()
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_action")
    with runtime.client() as client:
        action = client.get(f"/v1/payments/{payment_id}").json()["next_action"]
    target = action.get("payment_link") or action.get("url")
    assert link.get_attribute("href") == target
    qr = page.locator("#next-action img.qr-code")
    expect(qr).to_be_visible()
    # The code shown is the merchant proxy's SVG for the link, loaded (the SVG itself is
    # checked against segno in test_qr_code_matches_segno).
    shown = qr.get_attribute("src") or ""
    assert urlsplit(shown).path == "/merchant/qr.svg"
    assert parse_qs(urlsplit(shown).query)["data"] == [target]
    page.wait_for_function(
        "() => { const image = document.querySelector('#next-action img.qr-code');"
        " return image.complete && image.naturalWidth > 0; }"
    )
    expect(page.get_by_role("button", name="Start a new payment")).to_be_hidden()
    fits_viewport(page)
    shots(page, "next-action")
    with page.context.expect_page() as opened:
        link.click()
    provider_page = opened.value
    provider_page.wait_for_load_state()
    expect(provider_page.get_by_role("button", name="Pay", exact=True)).to_be_visible()
    shots(provider_page, "provider-page")
    return provider_page


def on_provider_page(
    page: Page, runtime: Runtime, shots: Shots, option: str, button: str, shot: str
) -> dict[str, Any]:
    """Start a payment, press `button` on the provider's page, come back to the checkout."""
    payment = start_payment(page, runtime, option, shots)
    provider_page = follow_next_action(page, runtime, shots, payment["id"])
    provider_page.get_by_role("button", name=button, exact=True).click()
    provider_page.wait_for_load_state()
    shots(provider_page, shot)
    page.bring_to_front()
    return payment


@pytest.mark.parametrize("provider", OPTIONS)
def test_pay_with_each_method(page: Page, runtime: Runtime, shots: Shots, provider: str) -> None:
    payment = on_provider_page(page, runtime, shots, provider, "Pay", "provider-paid")
    expect(page.locator("#status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#status")).to_have_attribute("role", "status")
    result = page.locator("#result-title")
    expect(result).to_have_text("Payment succeeded")
    expect(result).to_be_focused()
    expect(page.get_by_role("button", name="Start a new payment")).to_be_visible()
    fits_viewport(page)
    shots(page, "succeeded")
    with runtime.client() as client:
        assert client.get(f"/v1/payments/{payment['id']}").json()["status"] == "succeeded"


def test_decline_shows_the_failure_reason(page: Page, runtime: Runtime, shots: Shots) -> None:
    payment = on_provider_page(page, runtime, shots, "paypro", "Decline", "provider-declined")
    expect(page.locator("#status")).to_have_attribute("data-status", "failed")
    expect(page.locator("#result-title")).to_have_text("Payment failed")
    with runtime.client() as client:
        failure = client.get(f"/v1/payments/{payment['id']}").json()["failure"]
    assert failure["provider_code"] == "00029"
    expect(page.locator(".failure-reason")).to_have_text(f"Reason: {failure['message']}")
    expect(page.locator("#result")).to_contain_text("00029")
    shots(page, "failed")


def test_resume_after_reload_shows_the_final_status(page: Page, runtime: Runtime) -> None:
    """The payment id is kept in the URL: a reload (or the customer's return) resumes it."""
    with runtime.client() as client:
        created = client.post(
            "/v1/paypro/payments",
            json={"amount": 60000, "currency": "VND", "merchant_reference": "browser-resume"},
        ).json()
    open_checkout(page, runtime, f"?payment={created['id']}")
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_action")
    link = created["next_action"]["payment_link"]
    page.request.post(f"{link}/pay", data="{}", headers={"content-type": "application/json"})
    expect(page.locator("#status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#payment-amount")).to_contain_text("60.000")


# ---- next actions the checkout's flows do not reach: stubbed at the merchant proxy ---------

Handler = Callable[[Request], tuple[int, dict[str, Any]]]


def stub_merchant(page: Page, methods: list[dict[str, Any]], answer: Handler) -> list[str]:
    """Answer /merchant/* in the browser; returns the log of 'METHOD path' calls."""
    calls: list[str] = []

    def handle(route: Route, request: Request) -> None:
        path = request.url.split("/merchant", 1)[1]
        calls.append(f"{request.method} {path}")
        status, body = (200, {"methods": methods}) if path == "/methods" else answer(request)
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    page.route("**/merchant/**", handle)
    return calls


def payment_like(status: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": "pay_20260101000000abcdef0123",
        "provider": "monetix",
        "method": "bank_transfer",
        "status": status,
        "amount": 10000,
        "amount_received": None,
        "currency": "VND",
        "merchant_reference": "checkout-1",
        "provider_reference": None,
        "next_action": None,
        "failure": None,
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        **fields,
    }


BANK_TRANSFER = {
    "provider": "monetix",
    "method": "bank_transfer",
    "summary": "",
    "minimum_amount": 1,
    "customer_fields": [],
    "confirmation": [],
}
INSTRUCTIONS = {
    "type": "bank_transfer_instructions",
    "bank": "Military Bank",
    "account_no": "1234123412341",
    "account_name": "John Doe",
    "amount": 10000,
    "transfer_code": "B1234567890",
    "bank_abbr": "MB",
}


def test_bank_transfer_instructions_with_copy_buttons(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    sent: list[dict[str, Any]] = []

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        if request.method == "POST":  # the instructions arrive later, as with Monetix
            sent.append(json.loads(request.post_data or "{}"))
            return 201, payment_like("pending")
        return 200, payment_like("requires_action", next_action=INSTRUCTIONS)

    stub_merchant(page, [BANK_TRANSFER], answer)
    open_checkout(page, runtime)
    page.get_by_label("Amount (VND)").fill("10000")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#next-action")).to_contain_text("Waiting for the next step")
    transfer = page.locator("dl.transfer")
    expect(transfer).to_be_visible()
    assert sent == [{"method": "bank_transfer", "amount": 10000}]
    for value in ("Military Bank", "1234123412341", "John Doe", "10.000", "B1234567890", "MB"):
        expect(transfer).to_contain_text(value)
    expect(page.locator('ol[lang="vi"]')).to_contain_text(
        'Vui lòng sử dụng các tính năng "Copy/Paste" có sẵn'
    )
    expect(page.locator('ol[lang="en"]')).to_contain_text(
        "IMPORTANT! Please copy Transfer Code and put it in the Reference filed"
    )
    page.get_by_role("button", name="Copy transfer code").click()
    expect(page.locator("#copy-status")).to_have_text("Copied transfer code.")
    assert page.evaluate("navigator.clipboard.readText()") == "B1234567890"
    page.get_by_role("button", name="Copy amount").click()
    expect(page.locator("#copy-status")).to_have_text("Copied amount.")
    assert page.evaluate("navigator.clipboard.readText()") == "10000"
    fits_viewport(page)
    shots(page, "bank-transfer-instructions")


def test_bank_transfer_without_code_shows_the_other_instruction_texts(
    page: Page, runtime: Runtime
) -> None:
    details = {k: v for k, v in INSTRUCTIONS.items() if k != "transfer_code"}

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        return 201, payment_like("requires_action", next_action={**details, "branch": "Hà Nội"})

    stub_merchant(page, [BANK_TRANSFER], answer)
    open_checkout(page, runtime)
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("dl.transfer")).to_contain_text("Hà Nội")
    expect(page.locator('ol[lang="en"]')).to_contain_text("Please copy Transaction ID")
    expect(page.locator('ol[lang="vi"] li')).to_have_count(6)


def test_post_redirect_renders_a_form_with_the_params(page: Page, runtime: Runtime) -> None:
    action = {
        "type": "redirect",
        "url": "http://127.0.0.1:9/acs",
        "method": "POST",
        "params": {"PaReq": "eJx", "MD": "42"},
    }

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        return 201, payment_like("requires_action", next_action=action)

    stub_merchant(page, [BANK_TRANSFER], answer)
    open_checkout(page, runtime)
    page.get_by_role("button", name="Pay", exact=True).click()
    form = page.locator("#next-action form")
    expect(form).to_have_attribute("method", "post")
    expect(form).to_have_attribute("action", action["url"])
    expect(form.locator('input[name="PaReq"]')).to_have_value("eJx")
    expect(form.locator('input[name="MD"]')).to_have_value("42")
    expect(form.get_by_role("button", name="Open the payment page")).to_be_visible()


def test_confirmation_step_handles_a_missing_route_then_cancels(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    ewallet = {
        **BANK_TRANSFER,
        "provider": "smartglocal",
        "method": "ewallet",
        "customer_fields": ["email", "full_name", "document"],
        "confirmation": ["auto", "manual"],
    }
    waiting = payment_like("requires_confirmation", provider="smartglocal", method="ewallet")
    sent: list[dict[str, Any]] = []
    current = [waiting]  # what the gateway holds: a cancel is a new version

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        if request.url.endswith("/confirm"):
            return 404, {"error": {"code": "not_found", "message": "no such route"}}
        if request.url.endswith("/cancel"):
            current.append({**waiting, "status": "cancelled", "version": 2})
            return 200, current[-1]
        if request.method == "POST":
            sent.append(json.loads(request.post_data or "{}"))
            return 201, waiting
        return 200, current[-1]

    calls = stub_merchant(page, [ewallet], answer)
    open_checkout(page, runtime)
    page.get_by_label("Confirmation").select_option("manual")
    page.get_by_label("Email").fill(CUSTOMER["email"])
    page.get_by_label("Full name").fill(CUSTOMER["full_name"])
    page.get_by_label("ID document number").fill(CUSTOMER["document"])
    page.get_by_role("button", name="Pay", exact=True).click()
    # The status shows only once the create's answer came back, so its request was seen.
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_confirmation")
    typed = {name: CUSTOMER[name] for name in ("email", "full_name", "document")}
    assert sent == [
        {"method": "ewallet", "amount": 50000, "customer": typed, "confirmation": "manual"}
    ]
    shots(page, "requires-confirmation")
    page.get_by_role("button", name="Confirm payment").click()
    expect(page.locator("#action-message")).to_have_text(re.compile(r"cannot confirm .*HTTP 404"))
    expect(page.get_by_role("button", name="Confirm payment")).to_be_enabled()
    shots(page, "confirm-unavailable")
    page.get_by_role("button", name="Cancel payment").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#result-title")).to_have_text("Payment cancelled")
    shots(page, "cancelled")
    assert f"POST /payments/{waiting['id']}/confirm" in calls
    assert f"POST /payments/{waiting['id']}/cancel" in calls


def test_create_error_is_announced_and_focuses_the_field(page: Page, runtime: Runtime) -> None:
    open_checkout(page, runtime)
    page.locator("#method-paypro").check()
    page.get_by_label("Amount (VND)").fill("1000")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("at least 50.000")
    expect(page.get_by_label("Amount (VND)")).to_be_focused()
    expect(page.get_by_label("Amount (VND)")).to_have_attribute("aria-invalid", "true")


# ---- the QR code --------------------------------------------------------------------------


def test_qr_code_matches_segno(page: Page, runtime: Runtime) -> None:
    """The page's QR image, as the browser fetched it from the merchant proxy, is segno's
    symbol for the payload (smallest version at level M)."""
    open_checkout(page, runtime)
    for text in QR_TEXTS:
        answer = page.request.get(f"{runtime.api_url}/merchant/qr.svg?data={quote(text)}")
        assert answer.status == 200 and answer.headers["content-type"] == "image/svg+xml"
        expected = segno.make_qr(text, error="m", boost_error=False)
        assert modules(answer.body()) == [list(row) for row in expected.matrix], text
    too_long = page.request.get(f"{runtime.api_url}/merchant/qr.svg?data={'z' * 3000}")
    assert too_long.status == 422


def test_a_poll_answered_after_a_cancel_does_not_bring_the_old_state_back(
    page: Page, runtime: Runtime
) -> None:
    """A status poll sent before the customer cancels, answered after the cancel (its older
    version), leaves the page on `cancelled` and does not restart polling."""
    ewallet = {**BANK_TRANSFER, "provider": "smartglocal", "method": "ewallet",
               "customer_fields": [], "confirmation": ["auto", "manual"]}  # fmt: skip
    waiting = payment_like("requires_confirmation", provider="smartglocal", method="ewallet")
    cancelled = {**waiting, "status": "cancelled", "version": 2}
    held: list[Route] = []
    polls: list[str] = []

    def handle(route: Route, request: Request) -> None:
        path = request.url.split("/merchant", 1)[1]
        if path == "/methods":
            body: dict[str, Any] = {"methods": [ewallet]}
        elif request.method == "GET":
            polls.append(path)
            if not held:  # the first poll is held until the cancel has been answered
                held.append(route)
                return
            body = cancelled
        else:
            body = cancelled if path.endswith("/cancel") else waiting
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/merchant/**", handle)
    open_checkout(page, runtime)
    page.get_by_label("Confirmation").select_option("manual")

    def is_poll(request: Request) -> bool:
        return request.method == "GET" and "/payments/" in request.url

    with page.expect_request(is_poll):
        page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_confirmation")
    page.get_by_role("button", name="Cancel payment").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "cancelled")
    with page.expect_response(lambda response: response.request.method == "GET"):
        held[0].fulfill(status=200, content_type="application/json", body=json.dumps(waiting))
    with pytest.raises(PlaywrightTimeoutError):  # polling stays stopped: no second poll
        page.wait_for_event("request", is_poll, timeout=2500)
    expect(page.locator("#status")).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#result-title")).to_have_text("Payment cancelled")
    assert polls == [f"/payments/{waiting['id']}"]
