"""The operator console (`/console/`) in a real browser (Debian's Chromium) against the local
runtime: a Monetix bank transfer paid with a changed amount ends in `needs_review`; the console
finds it by its order reference, shows its timeline (the callback, the change to
`needs_review`) and accepts the review with a note. Paging through empty pages, a rejected
filter and a retried review (same Idempotency-Key) are driven with answers stubbed at the
merchant proxy. The page is driven by accessible names only (labels and roles), so a control
without one fails the test. Screenshots: test-artifacts/browser/<test>/NN-<step>.png (the
`shots` fixture)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from playwright.sync_api import Browser, Page, Request, Route, expect

from local.config import LocalConfig, LocalOperator
from tools.launcher import Runtime

from .conftest import TIMEOUT_MS, Shots, fits_viewport

LAPTOP = {"width": 1366, "height": 900}
CUSTOMER = {
    "email": "buyer@example.com",
    "ip_address": "198.51.100.47",
    "first_name": "An",
    "last_name": "Nguyen",
}
CONTROLS = "input, select, textarea, button, a[href], summary"


def open_console(
    page: Page, runtime: Runtime, hash_: str = "", role: str | None = "reviewer"
) -> None:
    """The console at `hash_`, signed in through its form as the local `role` operator
    (None: left at the sign-in form)."""
    page.goto(f"{runtime.api_url}/console/{hash_}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    if role is None:
        return
    sign_in(page, operator(role))
    expect(page.locator("#who-email")).to_have_text(operator(role).email)


def operator(role: str) -> LocalOperator:
    (found,) = [o for o in LocalConfig().operators if role in o.groups]
    return found


def sign_in(page: Page, user: LocalOperator, password: str | None = None) -> None:
    expect(page.get_by_role("heading", name="Đăng nhập · Sign in")).to_be_visible()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Mật khẩu · Password").fill(user.password if password is None else password)
    page.get_by_role("button", name="Đăng nhập · Sign in").click()


def every_control_is_named(page: Page) -> None:
    """Each visible form control, button, link and summary has an accessible name."""
    controls = page.locator(CONTROLS).filter(visible=True)
    assert controls.count() > 0
    for control in controls.all():
        expect(control).to_have_accessible_name(re.compile(r"\S"))


def needs_review_transfer(runtime: Runtime, reference: str) -> dict[str, Any]:
    """A Monetix bank transfer of 300,000 paid with 250,000: the gateway holds it for review."""
    body = {
        "method": "bank_transfer",
        "amount": 300_000,
        "currency": "VND",
        "merchant_reference": reference,
        "customer": {**CUSTOMER, "id": f"console-{reference}"},
    }
    with runtime.client() as client:
        answer = client.post("/v1/monetix/payments", json=body)
    assert answer.status_code == 201, answer.text
    payment: dict[str, Any] = answer.json()
    runtime.wait_until(
        payment["id"],
        lambda p: (p.get("next_action") or {}).get("type") == "bank_transfer_instructions",
    )
    transfer = f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{payment['id']}/transfer"
    paid = httpx.post(transfer, json={"amount": 250_000}, timeout=30)
    assert paid.status_code == 200, paid.text
    return runtime.wait_for_status(payment["id"], "needs_review")


def test_console_finds_a_payment_and_accepts_its_review(
    page: Page, browser: Browser, runtime: Runtime, shots: Shots
) -> None:
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(runtime.api_url) else outside.append(request.url)
        ),
    )
    reference = f"order-{uuid.uuid4().hex[:12]}"
    payment = needs_review_transfer(runtime, reference)

    open_console(page, runtime)
    page.get_by_label("Payments").check()
    page.get_by_label("Order reference").fill(reference)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#result-rows tr")
    expect(rows).to_have_count(1)
    expect(page.locator("#search-status")).to_have_text("1 payment found.")
    row = rows.first
    expect(row).to_contain_text(reference)
    expect(row).to_contain_text("300.000 ₫")
    expect(row).to_contain_text("Bank transfer · Monetix")
    expect(row.locator(".badge")).to_have_text("needs review")
    expect(page.get_by_role("button", name="More")).to_be_hidden()
    fits_viewport(page)
    every_control_is_named(page)
    shots(page, "phone-search")

    page.get_by_role("link", name=payment["id"]).click()
    expect(page).to_have_url(re.compile(f"#/payments/{payment['id']}$"))
    title = page.get_by_role("heading", name=f"Payment {payment['id']}")
    expect(title).to_be_focused()
    expect(page.locator("#detail-status .badge")).to_have_text("needs review")
    expect(page.locator("#detail-body")).to_contain_text("250.000 ₫")  # the amount received
    expect(page.locator("#detail-body")).to_contain_text("amount_mismatch")
    timeline = page.get_by_role("list", name="Timeline")
    callbacks = timeline.locator('li[data-type="callback"]')
    expect(callbacks.first).to_be_visible()
    expect(callbacks.first).to_contain_text("Callback from Monetix")
    held = timeline.locator('li[data-type="status_change"][data-to="needs_review"]')
    expect(held).to_have_count(1)
    expect(held).to_contain_text("Provider callback")
    expect(timeline.locator('li[data-type="status_change"]').first).to_contain_text(
        "Created through the API"
    )
    body = callbacks.last.locator("pre.body")
    expect(body).to_be_hidden()
    callbacks.last.get_by_text("Body (masked)").click()
    expect(body).to_be_visible()
    expect(body).to_contain_text("{")
    fits_viewport(page)
    every_control_is_named(page)
    shots(page, "phone-detail")

    note = f"Customer paid 250.000 instead of 300.000; Monetix confirmed ({reference})."
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#detail-status .badge")).to_have_text("succeeded")
    expect(page.locator("#announce")).to_have_text(
        "Accepted: the payment's status is now succeeded.", timeout=TIMEOUT_MS
    )
    expect(page.get_by_role("button", name="Accept")).to_be_hidden()
    resolved = timeline.locator('li[data-type="status_change"][data-cause="merchant_action"]')
    expect(resolved).to_have_count(1)
    expect(resolved).to_contain_text("Merchant action")
    expect(resolved).to_contain_text(note)
    expect(resolved.locator(".badge").last).to_have_text("succeeded")
    expect(page.locator("#detail-body")).to_contain_text(note)  # the review decision
    shots(page, "phone-accepted")

    with runtime.client() as client:
        stored = client.get(f"/v1/payments/{payment['id']}").json()
    assert stored["status"] == "succeeded"
    assert stored["review"]["decision"] == "accept" and stored["review"]["note"] == note
    reviewer = operator("reviewer")  # the actor: the signed-in person, by id and email
    assert (stored["review"]["reviewed_by"], stored["review"]["reviewed_by_email"]) == (
        reviewer.user_id,
        reviewer.email,
    )
    expect(resolved).to_contain_text(reviewer.email)
    expect(resolved).to_contain_text(reviewer.user_id)

    laptop = browser.new_context(viewport=LAPTOP, locale="vi-VN")
    laptop.set_default_timeout(TIMEOUT_MS)
    try:
        wide = laptop.new_page()
        open_console(wide, runtime, role="viewer")  # a viewer finds and reads it too
        day = payment["created_at"][:10]  # the list's status and date filters, end to end
        wide.get_by_label("Order reference").fill(reference)
        wide.get_by_label("Status").select_option("succeeded")
        wide.get_by_label("Created from").fill(day)
        wide.get_by_label("Created to").fill(day)
        wide.get_by_role("button", name="Search").click()
        expect(wide.locator("#result-rows tr .badge")).to_have_text("succeeded")
        fits_viewport(wide)
        shots(wide, "laptop-search")
        wide.locator("#result-rows tr").first.locator("td").nth(2).click()  # the row opens it
        expect(wide.get_by_role("heading", name=f"Payment {payment['id']}")).to_be_visible()
        expect(wide.locator('li[data-cause="merchant_action"]')).to_contain_text(note)
        shots(wide, "laptop-detail")
    finally:
        laptop.close()
    assert outside == [], f"the console fetched from elsewhere: {outside}"


def test_console_path_redirects_and_is_served_with_its_csp(runtime: Runtime) -> None:
    moved = httpx.get(f"{runtime.api_url}/console", timeout=10)
    assert (moved.status_code, moved.headers["location"]) == (301, "/console/")
    page = httpx.get(f"{runtime.api_url}/console/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "styles.css"):
        assert httpx.get(f"{runtime.api_url}/console/{name}", timeout=10).status_code == 200
    assert httpx.get(f"{runtime.api_url}/console/missing.js", timeout=10).status_code == 404


# ---- answers stubbed at the merchant proxy --------------------------------------------------

Handler = Callable[[Request], tuple[int, dict[str, Any]]]


def stub_merchant(page: Page, answer: Handler) -> list[Request]:
    """Answer /merchant/* in the browser with `answer`; returns the requests seen (each to an
    operator route carries the signed-in operator's ID token; a payment's own read, a
    merchant route, carries none)."""
    seen: list[Request] = []

    def handle(route: Route, request: Request) -> None:
        token = request.headers.get("authorization", "")
        merchant_read = re.search(r"/merchant/payments/[^/?]+$", urlsplit(request.url).path)
        assert (token == "") if merchant_read else (token.count(".") == 2), request.url
        seen.append(request)
        status, body = answer(request)
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    page.route("**/merchant/**", handle)
    return seen


def payment_like(number: int, status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    return {
        "id": f"pay_20261201000000abcdef{number:04d}",
        "provider": "paypro",
        "method": "vietqr",
        "status": status,
        "amount": 50_000 + number,
        "amount_received": None,
        "currency": "VND",
        "merchant_reference": f"order-{number}",
        "provider_reference": None,
        "next_action": None,
        "failure": None,
        "review": None,
        "version": 1,
        "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-01T08:00:00Z",
        **fields,
    }


def path_and_query(request: Request) -> tuple[str, dict[str, str]]:
    url = urlsplit(request.url)
    return url.path.removeprefix("/merchant"), dict(parse_qsl(url.query))


def test_more_follows_the_cursor_through_empty_pages(page: Page, runtime: Runtime) -> None:
    pages = {
        None: ([payment_like(1), payment_like(2)], "c1"),
        "c1": ([], "c2"),  # an empty page that still has a cursor: followed
        "c2": ([], "c3"),
        "c3": ([payment_like(3, "failed")], None),
    }

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        items, cursor = pages[path_and_query(request)[1].get("cursor")]
        return 200, {"data": items, "next_cursor": cursor}

    seen = stub_merchant(page, answer)
    open_console(page, runtime)
    page.get_by_label("Payouts").check()
    page.get_by_label("Status").select_option("needs_review")
    page.get_by_label("Created from").fill("2026-12-01")
    page.get_by_label("Created to").fill("2026-12-01")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-rows tr")).to_have_count(2)
    more = page.get_by_role("button", name="More")
    expect(more).to_be_visible()
    page.get_by_role("button", name="More").click()
    expect(page.locator("#result-rows tr")).to_have_count(3)
    expect(more).to_be_hidden()
    expect(page.locator("#search-status")).to_have_text("3 payouts found.")
    # At phone width the rows are cards, still a table to assistive technology.
    table = page.get_by_role("table", name="payouts found")
    expect(table.get_by_role("row")).to_have_count(4)
    expect(table.get_by_role("columnheader")).to_have_count(6)
    expect(page.locator("#result-rows tr").nth(2).get_by_role("link")).to_be_focused()
    expect(page.locator("#result-rows tr").nth(2).locator(".badge")).to_have_text("failed")
    filters = {
        "status": "needs_review",
        "created_from": "2026-12-01T00:00:00Z",
        "created_to": "2026-12-02T00:00:00Z",  # the to-day is included: up to its end
    }
    assert [path_and_query(request) for request in seen] == [
        ("/payouts", filters),
        ("/payouts", {**filters, "cursor": "c1"}),
        ("/payouts", {**filters, "cursor": "c2"}),
        ("/payouts", {**filters, "cursor": "c3"}),
    ]
    href = page.locator("#result-rows tr").first.get_by_role("link").get_attribute("href")
    assert href == f"#/payouts/{payment_like(1)['id']}"


def test_a_rejected_filter_is_announced_on_its_field(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    error = {
        "code": "validation_error",
        "message": "not a valid reference",
        "field": "merchant_reference",
    }

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        return 422, {"error": error}

    seen = stub_merchant(page, answer)
    open_console(page, runtime)
    page.get_by_label("Created from").fill("2026-12-02")
    page.get_by_label("Created to").fill("2026-12-01")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("must not be before")
    expect(page.get_by_label("Created to")).to_be_focused()
    assert seen == []  # refused in the page
    page.get_by_label("Created to").fill("")
    page.get_by_label("Order reference").fill("x" * 64)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("not a valid reference (validation_error")
    expect(page.get_by_label("Order reference")).to_be_focused()
    expect(page.get_by_label("Order reference")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#results")).to_be_hidden()
    shots(page, "filter-error")


def test_a_retried_review_sends_the_same_idempotency_key(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    held = payment_like(7, "needs_review", provider="monetix", method="bank_transfer")
    entries = [
        {"type": "status_change", "at": "2026-12-01T08:00:00Z", "from": None, "to": "created",
         "cause": "create", "provider_code": None, "failure_code": None, "actor": None,
         "note": None},
        {"type": "callback", "at": "2026-12-01T08:05:00Z", "provider": "monetix",
         "outcome": "applied", "body": {"payment": {"status": "success", "sum": "***"}}},
        {"type": "status_change", "at": "2026-12-01T08:05:00Z", "from": "requires_action",
         "to": "needs_review", "cause": "webhook", "provider_code": "0",
         "failure_code": "amount_mismatch", "actor": None, "note": None},
    ]  # fmt: skip
    reviews: list[tuple[str | None, dict[str, Any]]] = []
    answers = [
        (503, {"error": {"code": "unavailable", "message": "try again"}}),
        (502, {"error": {"code": "gateway_unreachable", "message": "the gateway did not answer"}}),
        (200, {**held, "status": "failed", "failure": {"code": "review_rejected",
               "message": "rejected in review", "provider_code": None, "provider_message": None}}),
    ]  # fmt: skip

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        path = path_and_query(request)[0]
        if path.endswith("/timeline"):
            return 200, {"payment_id": held["id"], "entries": entries}
        if path.endswith("/review"):
            reviews.append((request.headers.get("idempotency-key"), request.post_data_json))
            return answers[len(reviews) - 1]
        if path.endswith("/payments"):
            return 200, {"data": [held], "next_cursor": None}
        return 404, {"error": {"code": "not_found", "message": "not stubbed"}}

    stub_merchant(page, answer)
    open_console(page, runtime)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=held["id"]).click()
    expect(page.get_by_role("heading", name=f"Payment {held['id']}")).to_be_focused()
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline.locator("li")).to_have_count(3)
    expect(timeline.locator("li").nth(2)).to_contain_text("amount_mismatch")
    every_control_is_named(page)
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert")).to_contain_text("Write a note")
    expect(page.get_by_label("Note")).to_be_focused()
    assert reviews == []

    page.get_by_label("Note").fill("first try")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("alert")).to_contain_text("try again (unavailable, HTTP 503)")
    page.get_by_label("Note").fill("No money reached our account; Monetix agrees.")
    page.get_by_role("button", name="Reject").click()  # another submission: a new key
    expect(page.get_by_role("alert")).to_contain_text("HTTP 502")
    page.get_by_role("button", name="Reject").click()  # the same one, retried: the same key
    expect(page.locator("#detail-status .badge")).to_have_text("failed")
    expect(page.locator("#detail-body")).to_contain_text("review_rejected")
    expect(page.get_by_role("button", name="Reject")).to_be_hidden()
    shots(page, "rejected-stubbed")
    keys = [key for key, _ in reviews]
    assert all(key and re.fullmatch(r"[0-9a-f-]{36}", key) for key in keys), keys
    assert keys[0] != keys[1] == keys[2]
    note = "No money reached our account; Monetix agrees."
    assert [body for _, body in reviews] == [
        {"decision": "accept", "note": "first try"},
        {"decision": "reject", "note": note},
        {"decision": "reject", "note": note},
    ]


# ---- signing in ------------------------------------------------------------------------------


def test_a_viewer_reads_a_held_payment_but_sees_no_accept(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    reference = f"order-{uuid.uuid4().hex[:12]}"
    payment = needs_review_transfer(runtime, reference)
    open_console(page, runtime, role="viewer")
    expect(page.locator("#who-role")).to_have_text("(viewer)")
    page.get_by_label("Order reference").fill(reference)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=payment["id"]).click()
    expect(page.locator("#detail-status .badge")).to_have_text("needs review")
    expect(page.get_by_role("list", name="Timeline").locator("li").first).to_be_visible()
    expect(page.get_by_role("button", name="Accept")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    expect(page.locator("#review")).to_be_hidden()
    expect(page.locator("#review-viewer")).to_contain_text("reviewer")
    every_control_is_named(page)
    shots(page, "viewer-detail")
    # The page only hides the form: the gateway is the guard (403 for a viewer's review).
    token = page.evaluate("JSON.parse(sessionStorage.getItem('paygate-operator')).token")
    answer = httpx.post(
        f"{runtime.api_url}/merchant/payments/{payment['id']}/review",
        json={"decision": "accept", "note": "a viewer tries"},
        headers={"Authorization": token},
        timeout=10,
    )
    assert answer.status_code == 403 and "'reviewer'" in answer.json()["error"]["message"]


def test_sign_in_refuses_a_wrong_password_and_sign_out_forgets_the_token(
    page: Page, runtime: Runtime, shots: Shots
) -> None:
    open_console(page, runtime, role=None)
    expect(page.get_by_role("button", name="Search")).to_be_hidden()
    every_control_is_named(page)
    shots(page, "sign-in")
    sign_in(page, operator("reviewer"), password="not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Sai email hoặc mật khẩu")
    expect(page.get_by_label("Mật khẩu · Password")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('paygate-operator')") is None
    shots(page, "sign-in-refused")
    sign_in(page, operator("reviewer"))
    expect(page.get_by_role("button", name="Search")).to_be_visible()
    expect(page.locator("#who-role")).to_have_text("(reviewer)")
    page.get_by_role("button", name="Đăng xuất · Sign out").click()
    expect(page.get_by_role("heading", name="Đăng nhập · Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Signed out")
    assert page.evaluate("sessionStorage.getItem('paygate-operator')") is None
    # Without a token the proxy lends no key: the gateway answers 401 itself.
    answer = httpx.get(f"{runtime.api_url}/merchant/payments", timeout=10)
    assert answer.status_code == 401 and answer.json()["error"]["field"] == "Authorization"
