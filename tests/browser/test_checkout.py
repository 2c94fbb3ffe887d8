"""The checkout page in a real browser (Debian's Chromium) against the local runtime: every
payment method the template offers is paid end to end in its provider sandbox, in Vietnamese
(the default) and in English, at a phone's width (390 px) and a laptop's (1366 px). At every
step the rendered text is compared with the page's message table (messages.js: no English on
the Vietnamese page and no Vietnamese on the English one), no raw API state is shown, nothing
scrolls sideways and the browser logs no error (the favicon included). Screenshots of every
step go to .paygate/artifacts/screenshots/<test>/. Next actions the local flows do not reach
(a POST redirect, the confirmation step, a VietQR payload) are rendered from answers stubbed
at the merchant proxy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
import segno
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    Route,
    ViewportSize,
    expect,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from local.aws.template import load_template
from tests.support.qr_svg import QR_TEXTS, modules
from tools.launcher import ROOT, Runtime

from .conftest import PHONE, TIMEOUT_MS, fits_viewport

SCREENSHOTS = ROOT / ".paygate" / "artifacts" / "screenshots"
WIDTHS: dict[str, ViewportSize] = {
    "phone": {"width": PHONE["width"], "height": PHONE["height"]},
    "laptop": {"width": 1366, "height": 768},
}
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
# API states that are never words a shopper reads.
RAW_STATES = re.compile(r"requires_action|requires_confirmation|needs_review|\((?:[a-z_]+)\)")
FINAL = {"succeeded", "failed", "cancelled", "expired", "needs_review"}
# Words of any English sentence, none of them Vietnamese (nor part of a provider's name).
ENGLISH_WORDS = re.compile(r"\b(?:the|and|your|you|payment|pay|please|with|for|this|page)\b", re.I)
# What both tables may say alike: names, not words.
SAME_IN_BOTH = {"Email", "VietQR"}
PROVIDER_NAMES = {"paypro": "Paypro", "smartglocal": "Smart Glocal", "monetix": "Monetix"}
NBSP_AMOUNT = re.compile(r"\d{1,3}(?:\.\d{3})*\u00a0₫")


# ---- the browser, the words, the screenshots ----------------------------------------------


def new_context(browser: Browser, runtime: Runtime, width: str) -> BrowserContext:
    phone = width == "phone"
    made = browser.new_context(
        viewport=WIDTHS[width],
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        locale="vi-VN",
    )
    made.grant_permissions(["clipboard-read", "clipboard-write"], origin=runtime.api_url)
    made.set_default_timeout(TIMEOUT_MS)
    return made


class Problems:
    """What the browser reports as wrong on a page: console errors, uncaught exceptions and
    any answer of 400 or more (a missing favicon shows here)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", self._exception)
        page.on("response", self._response)

    def _exception(self, error: Error) -> None:
        self.seen.append(f"exception: {error}")

    def _response(self, answer: Response) -> None:
        if answer.status >= 400:
            try:
                body = answer.text()[:300]
            except Error:  # a body the browser no longer holds
                body = ""
            self.seen.append(f"{answer.status} {answer.url} {body}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.seen.append(f"console: {message.text}")


class Shots:
    """Numbered full-page screenshots: .paygate/artifacts/screenshots/<test>/NN-step.png."""

    def __init__(self, name: str) -> None:
        self.folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


TEXT_OF_PAGE = """(lang) => {
  const out = [document.title];
  const mine = (node) => {
    const tagged = node.closest('[lang]');
    return !tagged || tagged.lang === lang;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    // the API's data (a bank's or holder's name, ids) is marked translate="no"
    if (!parent || !node.textContent.trim()) continue;
    if (parent.closest('script, style, noscript, [translate="no"]')) continue;
    if (parent.checkVisibility() && mine(parent)) out.push(node.textContent.trim());
  }
  for (const node of document.body.querySelectorAll('[aria-label], [alt], [placeholder]')) {
    if (!node.checkVisibility() || !mine(node)) continue;
    for (const name of ['aria-label', 'alt', 'placeholder']) {
      if (node.getAttribute(name)) out.push(node.getAttribute(name));
    }
  }
  return out.join('\\n');
}"""


def strings(table: Any) -> list[str]:
    if isinstance(table, str):
        return [table]
    return [text for value in table.values() for text in strings(value)]


def foreign_fragments(messages: dict[str, Any], lang: str) -> list[str]:
    """The other language's words that this language's table does not share: each message
    split at its `{placeholders}`, pieces of at least three letters."""
    other = "en" if lang == "vi" else "vi"
    own = set(strings(messages[lang]))
    pieces = set()
    for text in strings(messages[other]):
        if text in own:
            continue
        for piece in re.split(r"\{\w+\}", text):
            piece = piece.strip(" .,:;·…()'")
            if len(re.findall(r"\w", piece)) >= 3 and not any(piece in mine for mine in own):
                pieces.add(piece)
    return sorted(pieces)


class Checkout:
    """The checkout page in one language: its message table and the checks made at every
    step."""

    def __init__(self, page: Page, runtime: Runtime, lang: str, shots: Shots) -> None:
        self.page, self.runtime, self.lang, self.shots = page, runtime, lang, shots
        self.messages: dict[str, Any] = {}

    def open(self, query: str = "") -> None:
        joined = "&".join(part for part in (query, "lang=en" if self.lang == "en" else "") if part)
        self.page.goto(f"{self.runtime.api_url}/checkout/{'?' + joined if joined else ''}")
        expect(self.page.locator("body")).to_have_attribute("data-ready", "true")
        self.messages = self.page.evaluate("window.paygateCheckoutMessages")

    def t(self, key: str, **params: Any) -> str:
        text: Any = self.messages[self.lang]
        for part in key.split("."):
            text = text[part]
        return re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), str(text))

    def check(self, step: str) -> Path:
        """The step's checks, then its screenshot."""
        page = self.page
        expect(page.locator("html")).to_have_attribute("lang", self.lang)
        shown = page.evaluate(TEXT_OF_PAGE, self.lang)
        for piece in foreign_fragments(self.messages, self.lang):
            found = re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", shown)
            assert found is None, f"{step}: {piece!r}, of the other language, is on the page"
        if self.lang == "vi":  # and no English the table does not know of either
            english = ENGLISH_WORDS.search(shown)
            assert english is None, f"{step}: English {english and english.group(0)!r} on the page"
        assert RAW_STATES.search(shown) is None, f"{step}: a raw API state is shown"
        assert "₫" not in re.sub(NBSP_AMOUNT, "", shown.replace("(₫)", "")), (
            f"{step}: ₫ without NBSP"
        )
        fits_viewport(page)
        return self.shots(page, step)

    def status_is(self, status: str) -> None:
        """The status in the page's words: in the status box until it is final, then as the
        result's heading (the API's state only in data-status)."""
        box = self.page.locator("#status")
        expect(box).to_have_attribute("data-status", status)
        shown = self.page.locator("#result-title") if status in FINAL else box
        expect(shown).to_be_visible()
        expect(shown).to_have_text(self.t(f"status.{status}"))


def pay(checkout: Checkout, problems: Problems) -> str:
    """Press Pay; the new payment's id once the page shows it."""
    checkout.page.get_by_role("button", name=checkout.t("payButton"), exact=True).click()
    title = checkout.page.locator("#payment-title")
    try:
        expect(title).to_be_focused()
    except AssertionError:
        raise AssertionError(f"no payment: {problems.seen}") from None
    return checkout.page.locator("#payment-id").inner_text()


def fill_customer(page: Page) -> None:
    for field in page.locator("#customer-fields input").all():
        field.fill(CUSTOMER.get(field.get_attribute("name") or "", "test"))


@pytest.fixture(params=["vi", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["phone", "laptop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def checkout_page(
    browser: Browser, runtime: Runtime, width: str
) -> Iterator[tuple[Page, Problems]]:
    context = new_context(browser, runtime, width)
    problems = Problems()
    context.on("page", problems.watch)
    yield context.new_page(), problems
    context.close()


# ---- each method end to end -----------------------------------------------------------------

AMOUNTS = iter(range(101_000, 200_000, 1_000))  # one per payment: no Monetix series


def provider_page(checkout: Checkout, link: str, target: str) -> Page:
    """Open the provider's page from the checkout's button, which must point at `target`."""
    button = checkout.page.get_by_role("link", name=link)
    expect(button).to_have_attribute("href", target)
    with checkout.page.context.expect_page() as opened:
        button.click()
    page = opened.value
    page.wait_for_load_state()
    return page


def pay_on_the_provider_page(page: Page) -> None:
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_load_state()


def qr_shown(checkout: Checkout, target: str) -> None:
    """The QR code of `target`, labelled as what it is: the payment page, on a phone."""
    image = checkout.page.locator("#next-action img.qr-code")
    expect(image).to_be_visible()
    src = image.get_attribute("src") or ""
    assert urlsplit(src).path == "/merchant/qr.svg"
    assert parse_qs(urlsplit(src).query)["data"] == [target]
    expect(image).to_have_attribute("alt", checkout.t("qrCaption"))
    expect(checkout.page.locator("#next-action figcaption")).to_have_text(checkout.t("qrCaption"))
    checkout.page.wait_for_function(
        "() => { const image = document.querySelector('#next-action img.qr-code');"
        " return image.complete && image.naturalWidth > 0; }"
    )


def bank_transfer_shown(checkout: Checkout, action: dict[str, Any]) -> None:
    """Bank, account, holder, exact amount and transfer code, each with its copy button,
    and the provider's own instruction lines in the page's language."""
    page = checkout.page
    transfer = page.locator("dl.transfer")
    rows = {
        "bank": action["bank"],
        "account_no": action["account_no"],
        "account_name": action["account_name"],
        "amount": f"{action['amount']:,}".replace(",", ".") + "\u00a0₫",
        "transfer_code": action["transfer_code"],
    }
    for name, value in rows.items():
        row = transfer.locator(f'[data-field="{name}"]')
        expect(row.locator("dt")).to_have_text(checkout.t(f"transfer.{name}"))
        assert row.locator("dd").inner_text() == value
        what = checkout.t(f"transfer.{name}").lower()
        expect(row.get_by_role("button", name=checkout.t("copyLabel", what=what))).to_be_visible()
    lines = page.locator(f'.instructions ol[lang="{checkout.lang}"] li')
    expect(lines).to_have_text(action["instructions"][checkout.lang])
    code = checkout.t("transfer.transfer_code").lower()
    page.get_by_role("button", name=checkout.t("copyLabel", what=code)).click()
    expect(page.locator("#copy-status")).to_have_text(checkout.t("copiedStatus", what=code))
    assert page.evaluate("navigator.clipboard.readText()") == action["transfer_code"]
    amount = checkout.t("transfer.amount").lower()
    page.get_by_role("button", name=checkout.t("copyLabel", what=amount)).click()
    expect(page.locator("#copy-status")).to_have_text(checkout.t("copiedStatus", what=amount))
    assert page.evaluate("navigator.clipboard.readText()") == str(action["amount"])


@pytest.mark.parametrize("option", OPTIONS)
def test_pay_with_each_method(
    checkout_page: tuple[Page, Problems],
    runtime: Runtime,
    shots: Shots,
    option: str,
    lang: str,
    width: str,
) -> None:
    page, problems = checkout_page
    checkout = Checkout(page, runtime, lang, shots)
    checkout.open()
    amount = next(AMOUNTS)
    page.locator(f"#method-{option}").check()
    page.get_by_label(checkout.t("amountLabel")).fill(str(amount))
    fill_customer(page)
    checkout.check("order-form")
    payment_id = pay(checkout, problems)
    with runtime.client() as client:
        payment = client.get(f"/v1/payments/{payment_id}").json()
    assert (payment["provider"], payment["amount"]) == (option.split("-")[0], amount)
    action = runtime.wait_for_status(payment_id, "requires_action")["next_action"]
    checkout.status_is("requires_action")
    provider = payment["provider"]

    if provider == "monetix":  # Gate flow: the details on the checkout, the shopper transfers
        expect(page.locator("dl.transfer")).to_be_visible()
        bank_transfer_shown(checkout, action)
        checkout.check("bank-transfer-details")
        transfer = f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{payment_id}/transfer"
        answer = httpx.post(transfer, json={}, headers={"accept": "application/json"}, timeout=30)
        assert answer.status_code == 200, answer.text
    else:
        name = PROVIDER_NAMES.get(provider, provider)
        if action["type"] == "qr":
            target = action["payment_link"]
            assert action.get("qr_payload") is None  # Paypro answers a cashier link only
            button = checkout.t("vietqrOpen")
            qr_shown(checkout, target)
        else:
            target = action["url"]
            button = checkout.t("goTo", provider=name)
            if payment["method"] == "ewallet":
                qr_shown(checkout, target)
            else:  # ATM card and wallet pages: where the shopper goes, and no QR code
                expect(page.locator("#next-action img")).to_have_count(0)
        checkout.check("next-step")
        opened = provider_page(checkout, button, target)
        shots(opened, "provider-page")
        pay_on_the_provider_page(opened)
        page.bring_to_front()

    checkout.status_is("succeeded")
    result = page.locator("#result-title")
    expect(result).to_have_text(checkout.t("status.succeeded"))
    expect(result).to_be_focused()
    expect(page.locator("#result")).to_contain_text(
        checkout.t("thanks", amount=f"{amount:,}".replace(",", ".") + "\u00a0₫")
    )
    expect(page.get_by_role("button", name=checkout.t("restart"))).to_be_visible()
    checkout.check("succeeded")
    assert problems.seen == []


# ---- on a phone, in Vietnamese: other steps and the words -----------------------------------


@pytest.fixture
def phone(browser: Browser, runtime: Runtime) -> Iterator[tuple[Page, Problems]]:
    context = new_context(browser, runtime, "phone")
    problems = Problems()
    context.on("page", problems.watch)
    yield context.new_page(), problems
    context.close()


def test_decline_says_why_in_words(
    phone: tuple[Page, Problems], runtime: Runtime, shots: Shots
) -> None:
    page, problems = phone
    checkout = Checkout(page, runtime, "vi", shots)
    checkout.open()
    page.locator("#method-paypro").check()
    payment_id = pay(checkout, problems)
    link = runtime.wait_for_status(payment_id, "requires_action")["next_action"]["payment_link"]
    opened = provider_page(checkout, checkout.t("vietqrOpen"), link)
    opened.get_by_role("button", name="Decline", exact=True).click()
    opened.wait_for_load_state()
    page.bring_to_front()
    checkout.status_is("failed")
    with runtime.client() as client:
        failure = client.get(f"/v1/payments/{payment_id}").json()["failure"]
    assert failure["provider_code"] == "00029"
    expect(page.locator(".failure-reason")).to_have_text(
        f"{checkout.t('reason')} {checkout.t('failure.failed')}"
    )
    expect(page.locator("#result")).to_contain_text(checkout.t("providerCode", code="00029"))
    expect(page.locator("#result")).not_to_contain_text(failure["message"])  # the API's English
    checkout.check("failed")
    assert problems.seen == []


def test_the_language_switch_keeps_the_payment(
    phone: tuple[Page, Problems], runtime: Runtime, shots: Shots
) -> None:
    """Vietnamese first; the switch turns every word English (lang, title, the step shown)
    and back, keeps the payment and the choice in the URL."""
    page, problems = phone
    checkout = Checkout(page, runtime, "vi", shots)
    checkout.open()
    switch = page.get_by_role("navigation", name=checkout.t("languageNav")).get_by_role("link")
    expect(switch).to_have_text("English")
    expect(switch).to_have_attribute("lang", "en")
    page.locator("#method-paypro").check()
    payment_id = pay(checkout, problems)
    runtime.wait_for_status(payment_id, "requires_action")
    checkout.status_is("requires_action")
    checkout.check("vietnamese")
    switch.click()
    checkout.lang = "en"
    expect(page).to_have_title(checkout.t("pageTitle"))
    checkout.status_is("requires_action")
    expect(page.get_by_role("link", name=checkout.t("vietqrOpen"))).to_be_visible()
    assert parse_qs(urlsplit(page.url).query) == {"payment": [payment_id], "lang": ["en"]}
    checkout.check("english")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    checkout.status_is("requires_action")
    page.get_by_role("link", name="Tiếng Việt").click()
    checkout.lang = "vi"
    checkout.status_is("requires_action")
    assert "lang" not in parse_qs(urlsplit(page.url).query)
    assert problems.seen == []


def test_the_message_tables_are_complete(page: Page, runtime: Runtime) -> None:
    """Both languages have the same keys, and no entry was left untranslated."""
    page.goto(f"{runtime.api_url}/checkout/")
    messages = page.evaluate("window.paygateCheckoutMessages")

    def keys(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
        flat: dict[str, str] = {}
        for key, value in table.items():
            if isinstance(value, dict):
                flat.update(keys(value, f"{prefix}{key}."))
            else:
                flat[prefix + key] = value
        return flat

    vi, en = keys(messages["vi"]), keys(messages["en"])
    assert vi.keys() == en.keys()
    assert {vi[key] for key in vi if vi[key] == en[key]} <= SAME_IN_BOTH


def test_every_local_page_has_an_icon(page: Page, runtime: Runtime) -> None:
    """/favicon.ico answers for every page of the front door (the console and the index page
    name no icon); the checkout names its own."""
    answer = page.request.get(f"{runtime.api_url}/favicon.ico")
    assert answer.status == 200 and answer.headers["content-type"] == "image/svg+xml"
    page.goto(f"{runtime.api_url}/checkout/")
    icon = page.locator('link[rel="icon"]').get_attribute("href") or ""
    assert page.request.get(f"{runtime.api_url}/checkout/{icon}").status == 200


def test_the_developers_confirmation_control_needs_dev(page: Page, runtime: Runtime) -> None:
    ewallet = {**BANK_TRANSFER, "provider": "smartglocal", "method": "ewallet",
               "confirmation": ["auto", "manual"]}  # fmt: skip
    stub_merchant(page, [ewallet], lambda request: (500, {}))
    page.goto(f"{runtime.api_url}/checkout/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#confirmation-field")).to_be_hidden()
    page.goto(f"{runtime.api_url}/checkout/?dev=1")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#confirmation-field")).to_be_visible()


def test_resume_after_reload_shows_the_final_status(page: Page, runtime: Runtime) -> None:
    """The payment id is kept in the URL and its client secret in the tab's sessionStorage
    (where the create put it): a reload (or the customer's return) resumes it."""
    with runtime.client() as client:
        created = client.post(
            "/v1/paypro/payments",
            json={"amount": 60000, "currency": "VND", "merchant_reference": "browser-resume"},
        ).json()
    kept = json.dumps([f"paygate-client-secret:{created['id']}", created["client_secret"]])
    page.add_init_script(f"window.sessionStorage.setItem(...{kept});")
    page.goto(f"{runtime.api_url}/checkout/?payment={created['id']}")
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_action")
    link = created["next_action"]["payment_link"]
    page.request.post(f"{link}/pay", data="{}", headers={"content-type": "application/json"})
    expect(page.locator("#status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#payment-amount")).to_have_text("60.000\u00a0₫")


# ---- next actions the local flows do not reach: stubbed at the merchant proxy --------------

Handler = Callable[[Request], tuple[int, dict[str, Any]]]


def stub_merchant(page: Page, methods: list[dict[str, Any]], answer: Handler) -> list[str]:
    """Answer /merchant/* in the browser; returns the log of 'METHOD path' calls."""
    calls: list[str] = []

    def handle(route: Route, request: Request) -> None:
        path = request.url.split("/merchant", 1)[1]
        if path.startswith("/qr.svg"):
            route.continue_()
            return
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
        "client_secret": "pay_20260101000000abcdef0123_secret_" + "s" * 43,
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


def test_bank_transfer_option_1_names_every_detail(page: Page, runtime: Runtime) -> None:
    """Monetix's other title set (branch, SWIFT code, a description for a code) and its own
    texts: every detail has a label in words, and the amount copies as digits."""
    details = {
        "type": "bank_transfer_instructions",
        "bank": "Wooribank Việt Nam",
        "account_no": "902014188917",
        "account_name": "PAYME MNTX",
        "branch": "Hà Nội",
        "transfer_code": "TT 7890",
        "swift_code": "HVBKVNVXXXX",
        "instructions": {"vi": ["Dòng một.", "Dòng hai."], "en": ["Line one.", "Line two."]},
    }

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        return 201, payment_like("requires_action", next_action=details)

    stub_merchant(page, [BANK_TRANSFER], answer)
    page.goto(f"{runtime.api_url}/checkout/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#pay").click()
    transfer = page.locator("dl.transfer")
    expect(transfer.locator('[data-field="branch"] dt')).to_have_text("Chi nhánh")
    expect(transfer.locator('[data-field="swift_code"] dt')).to_have_text("Mã SWIFT")
    expect(transfer.locator('[data-field="branch"] dd')).to_have_text("Hà Nội")
    expect(transfer.locator("button")).to_have_count(4)  # bank, account, holder, code
    expect(page.locator('.instructions ol[lang="vi"] li')).to_have_text(["Dòng một.", "Dòng hai."])
    fits_viewport(page)


def test_post_redirect_renders_a_form_with_the_params(page: Page, runtime: Runtime) -> None:
    action: dict[str, Any] = {
        "type": "redirect",
        "url": "http://127.0.0.1:9/acs",
        "method": "POST",
        "params": {"PaReq": "eJx", "MD": "42"},
    }

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        return 201, payment_like("requires_action", next_action=action)

    stub_merchant(page, [BANK_TRANSFER], answer)
    page.goto(f"{runtime.api_url}/checkout/?lang=en")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#pay").click()
    form = page.locator("#next-action form")
    expect(form).to_have_attribute("method", "post")
    expect(form).to_have_attribute("action", action["url"])
    expect(form.locator('input[name="PaReq"]')).to_have_value("eJx")
    expect(form.locator('input[name="MD"]')).to_have_value("42")
    expect(form.get_by_role("button", name="Go to Monetix's payment page")).to_be_visible()


def test_a_vietqr_payload_is_the_code_to_scan(page: Page, runtime: Runtime) -> None:
    """When a provider answers a VietQR payload, that is the code shown, labelled for a
    banking app (Paypro answers only a cashier link: see test_pay_with_each_method)."""
    vietqr = {**BANK_TRANSFER, "provider": "paypro", "method": "vietqr"}
    action = {"type": "qr", "payment_link": "http://127.0.0.1:9/pay/1", "qr_payload": "000201"}

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        return 201, payment_like("requires_action", provider="paypro", method="vietqr",
                                 next_action=action)  # fmt: skip

    stub_merchant(page, [vietqr], answer)
    page.goto(f"{runtime.api_url}/checkout/?lang=en")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#pay").click()
    image = page.locator("#next-action img.qr-code")
    expect(image).to_have_attribute("alt", "VietQR code: scan it in your banking app")
    assert parse_qs(urlsplit(image.get_attribute("src") or "").query)["data"] == ["000201"]
    expect(page.get_by_role("link", name="Open the VietQR payment page")).to_have_attribute(
        "href", action["payment_link"]
    )


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
    page.goto(f"{runtime.api_url}/checkout/?dev=1")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#confirmation").select_option("manual")
    page.get_by_label("Email").fill(CUSTOMER["email"])
    page.get_by_label("Họ và tên").fill(CUSTOMER["full_name"])
    page.get_by_label("Số CCCD/CMND").fill(CUSTOMER["document"])
    page.get_by_role("button", name="Thanh toán", exact=True).click()
    # The status shows only once the create's answer came back, so its request was seen.
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_confirmation")
    expect(page.locator("#status")).to_have_text("Vui lòng xác nhận thanh toán")
    typed = {name: CUSTOMER[name] for name in ("email", "full_name", "document")}
    assert sent == [
        {"method": "ewallet", "amount": 50000, "customer": typed, "confirmation": "manual"}
    ]
    fits_viewport(page)
    shots(page, "requires-confirmation")
    page.get_by_role("button", name="Xác nhận thanh toán").click()
    expect(page.locator("#action-message")).to_have_text(
        "Hiện chưa xác nhận được thanh toán. Thanh toán vẫn đang chờ; vui lòng thử lại sau."
    )
    expect(page.get_by_role("button", name="Xác nhận thanh toán")).to_be_enabled()
    page.get_by_role("button", name="Huỷ thanh toán").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#result-title")).to_have_text("Đã huỷ thanh toán")
    shots(page, "cancelled")
    assert f"POST /payments/{waiting['id']}/confirm" in calls
    assert f"POST /payments/{waiting['id']}/cancel" in calls


def test_create_error_is_announced_and_focuses_the_field(page: Page, runtime: Runtime) -> None:
    page.goto(f"{runtime.api_url}/checkout/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#method-paypro").check()
    page.get_by_label("Số tiền (₫)").fill("1000")
    page.get_by_role("button", name="Thanh toán", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Số tiền tối thiểu với VietQR là 50.000\u00a0₫.")
    expect(page.get_by_label("Số tiền (₫)")).to_be_focused()
    expect(page.get_by_label("Số tiền (₫)")).to_have_attribute("aria-invalid", "true")


# ---- the QR code --------------------------------------------------------------------------


def test_qr_code_matches_segno(page: Page, runtime: Runtime) -> None:
    """The page's QR image, as the browser fetched it from the merchant proxy, is segno's
    symbol for the payload (smallest version at level M)."""
    page.goto(f"{runtime.api_url}/checkout/")
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
    page.goto(f"{runtime.api_url}/checkout/?dev=1&lang=en")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#confirmation").select_option("manual")

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
