"""The ecommpay/Monetix platform sandbox over real HTTP: signatures and projects, required
fields, the callback sequences (redirect, instructions, clarification), Monetix test amounts and
series, status, bank lists, the Payment Page, hooks, faults, delivery with retries on the
documented schedule (on a manual local clock: time passes only by advancing it), lifetimes, and
that a card number is never kept."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from local.aws.clock import LocalClock
from local.sandboxes.platform import PlatformSandbox, PlatformSandboxConfig
from paygate.providers.platform import signing

HTTP = httpx.Client(timeout=10, trust_env=False)  # one client: no TLS setup per request
SECRET = "sandbox-test-secret"
PROJECT = 77
CUSTOMER = {"id": "c-1", "email": "a@example.com", "phone": "84438336996",
            "ip_address": "198.51.100.1", "first_name": "An", "last_name": "Nguyen"}  # fmt: skip
PAN = "4321432154325432"
MASKED = "432143******5432"
CARD = {"pan": PAN, "card_holder": "FORD PREFECT", "year": 2030, "month": 11}
ATM = "/v2/payment/atm/vietnam/sale"
WALLET = "/v2/payment/wallet/nganluong/sale"
TRANSFER = "/v2/payment/bank-transfer/vietnam/sale"
ATM_PAYOUT = "/v2/payment/atm/vietnam/payout"


def start(provider: str, clock: LocalClock | None = None, **settings: Any) -> PlatformSandbox:
    """A sandbox on `clock` (default: its own real-time clock), with the documented retry
    schedule unless `callback_retry_delays` is given."""
    config = PlatformSandboxConfig(
        provider=provider,  # type: ignore[arg-type]
        project_id=PROJECT,
        secret_key=SECRET,
        timeout_delay_seconds=0.3,
        **settings,
    )
    if clock is None:
        sandbox = PlatformSandbox(config)
    else:
        sandbox = PlatformSandbox(config, now=clock.now, timers=clock)
    sandbox.start()
    return sandbox


def manual_clock() -> LocalClock:
    clock = LocalClock("manual")
    clock.start()  # due work (a first attempt) runs at once
    return clock


@pytest.fixture
def ecommpay() -> Iterator[PlatformSandbox]:
    sandbox = start("ecommpay")
    yield sandbox
    sandbox.stop()


@pytest.fixture
def monetix() -> Iterator[PlatformSandbox]:
    sandbox = start("monetix")
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def refusers() -> Iterator[dict[tuple[str, int], PlatformSandbox]]:
    """Sandboxes shared by the refusal tests (which change nothing), by provider and channel."""
    sandboxes = {
        (provider, channel): start(provider, atm_channel=channel)
        for provider, channel in (("ecommpay", 1), ("ecommpay", 2), ("monetix", 1))
    }
    yield sandboxes
    for sandbox in sandboxes.values():
        sandbox.stop()


counter = iter(range(10**6))


def body_for(**fields: Any) -> dict[str, Any]:
    """A purchase body with every field any method needs (unsigned)."""
    return {
        "general": {"project_id": PROJECT, "payment_id": f"p-{next(counter)}"},
        "customer": dict(CUSTOMER),
        "payment": {"amount": 300_000, "currency": "VND"},
        "account": {"bank_id": 136},
        "return_url": {"success": "https://m.example/ok", "decline": "https://m.example/ko"},
        **fields,
    }


def post(sandbox: PlatformSandbox, path: str, body: dict[str, Any]) -> httpx.Response:
    return HTTP.post(f"{sandbox.base_url}{path}", json=body)


def sale(
    sandbox: PlatformSandbox, path: str, secret: str = SECRET, **fields: Any
) -> httpx.Response:
    return post(sandbox, path, signing.with_signature(body_for(**fields), secret))


def accepted(sandbox: PlatformSandbox, path: str, **fields: Any) -> str:
    answer = sale(sandbox, path, **fields)
    assert answer.status_code == 200, answer.text
    payment_id: str = answer.json()["payment_id"]
    return payment_id


def general(payment_id: str, **fields: Any) -> dict[str, Any]:
    body = {"general": {"project_id": PROJECT, "payment_id": payment_id}, **fields}
    return signing.with_signature(body, SECRET)


def hook(sandbox: PlatformSandbox, payment_id: str, action: str, **body: Any) -> httpx.Response:
    url = f"{sandbox.base_url}/_sandbox/payments/{payment_id}/{action}"
    return HTTP.post(url, json=body)


def settings(sandbox: PlatformSandbox, **changes: Any) -> httpx.Response:
    return HTTP.post(f"{sandbox.base_url}/_sandbox/settings", json=changes)


def error(code: str, message: str) -> dict[str, str]:
    return {"status": "error", "code": code, "message": message}


# -- signature, project, provider ------------------------------------------------------------


def test_a_signed_sale_is_accepted(ecommpay: PlatformSandbox) -> None:
    body = body_for()
    answer = post(ecommpay, ATM, signing.with_signature(body, SECRET))
    assert answer.status_code == 200
    document = answer.json()
    assert document.keys() == {"status", "request_id", "project_id", "payment_id"}
    assert (document["status"], document["project_id"]) == ("success", PROJECT)
    assert document["payment_id"] == body["general"]["payment_id"]
    int(document["request_id"], 16)  # random hex


def test_bad_missing_or_stale_signatures_and_wrong_projects_are_401(
    ecommpay: PlatformSandbox,
) -> None:
    refused = error("1001", "Invalid signature")
    wrong_secret = sale(ecommpay, ATM, secret="another-secret")
    assert (wrong_secret.status_code, wrong_secret.json()) == (401, refused)
    unsigned = post(ecommpay, ATM, body_for())
    assert (unsigned.status_code, unsigned.json()) == (401, refused)
    tampered = signing.with_signature(body_for(), SECRET)
    tampered["payment"]["amount"] = 1
    assert post(ecommpay, ATM, tampered).status_code == 401
    other_project = body_for(general={"project_id": PROJECT + 1, "payment_id": "x"})
    assert post(ecommpay, ATM, signing.with_signature(other_project, SECRET)).status_code == 401


def test_each_provider_serves_only_its_methods(
    ecommpay: PlatformSandbox, monetix: PlatformSandbox
) -> None:
    for sandbox, path in ((ecommpay, TRANSFER), (monetix, ATM), (monetix, WALLET)):
        answer = sale(sandbox, path)
        assert answer.status_code == 404 and answer.json()["status"] == "error"
    listing = post(monetix, "/v2/info/banks/atm/vietnam/sale/list", general("x"))
    assert listing.status_code == 404
    assert HTTP.get(f"{ecommpay.base_url}/v2/nowhere").json()["code"] == "404"


# -- required fields, validation, duplicates -------------------------------------------------


def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = body
    for name in parents:
        node = node[name]
    del node[last]
    return body


@pytest.mark.parametrize(
    ("provider", "path", "channel", "missing"),
    [
        ("ecommpay", ATM, 1, "customer.id"),
        ("ecommpay", ATM, 1, "customer.email"),
        ("ecommpay", ATM, 1, "customer.phone"),
        ("ecommpay", ATM, 1, "customer.ip_address"),
        ("ecommpay", ATM, 1, "account.bank_id"),
        ("ecommpay", ATM, 1, "payment.amount"),
        ("ecommpay", ATM, 2, "customer.email"),
        ("ecommpay", ATM, 2, "account.bank_id"),
        ("ecommpay", ATM, 2, "payment.currency"),
        ("ecommpay", WALLET, 1, "customer.id"),
        ("ecommpay", WALLET, 1, "customer.ip_address"),
        ("ecommpay", WALLET, 1, "return_url.success"),
        ("ecommpay", WALLET, 1, "return_url.decline"),
        ("monetix", TRANSFER, 1, "customer.id"),
        ("monetix", TRANSFER, 1, "customer.first_name"),
        ("monetix", TRANSFER, 1, "customer.last_name"),
        ("monetix", TRANSFER, 1, "customer.email"),
        ("monetix", TRANSFER, 1, "customer.ip_address"),
        ("monetix", TRANSFER, 1, "general.payment_id"),
    ],
)
def test_a_missing_required_field_is_2004_naming_it(
    refusers: dict[tuple[str, int], PlatformSandbox],
    provider: str,
    path: str,
    channel: int,
    missing: str,
) -> None:
    sandbox = refusers[(provider, channel)]
    answer = post(sandbox, path, signing.with_signature(without(body_for(), missing), SECRET))
    assert answer.status_code == 400
    assert answer.json() == error("2004", f"Required field not provided: {missing}")


def test_optional_fields_may_be_left_out(
    ecommpay: PlatformSandbox, monetix: PlatformSandbox
) -> None:
    settings(ecommpay, atm_channel=2)  # channel 2 needs neither customer.id nor customer.phone
    lean = {"email": "a@example.com", "ip_address": "198.51.100.1"}
    assert sale(ecommpay, ATM, customer=lean).status_code == 200
    transfer = without(body_for(), "account")  # account.bank_id is optional for Monetix
    assert post(monetix, TRANSFER, signing.with_signature(transfer, SECRET)).status_code == 200


AMOUNT_ERROR = "Validation error: payment.amount must be a positive integer"


@pytest.mark.parametrize(
    ("payment", "message"),
    [
        ({"amount": 300_000, "currency": "USD"}, "Validation error: currency must be VND"),
        ({"amount": 0, "currency": "VND"}, AMOUNT_ERROR),
        ({"amount": "300000", "currency": "VND"}, AMOUNT_ERROR),
        ({"amount": 1.5, "currency": "VND"}, AMOUNT_ERROR),
        ({"amount": True, "currency": "VND"}, AMOUNT_ERROR),
    ],
)
def test_amount_and_currency_are_validated_502(
    ecommpay: PlatformSandbox, payment: dict[str, Any], message: str
) -> None:
    answer = sale(ecommpay, WALLET, payment=payment)
    assert (answer.status_code, answer.json()) == (400, error("502", message))


def test_a_reused_payment_id_is_3041(ecommpay: PlatformSandbox) -> None:
    ids = {"project_id": PROJECT, "payment_id": "dup-1"}
    assert sale(ecommpay, WALLET, general=ids).status_code == 200
    again = sale(ecommpay, WALLET, general=ids)
    assert (again.status_code, again.json()) == (400, error("3041", "Payment ID already exists"))
    assert len(ecommpay.callbacks("dup-1")) == 1  # the refusal produced nothing


# -- redirect flow ---------------------------------------------------------------------------


def test_atm_redirect_then_pay_another_amount(ecommpay: PlatformSandbox) -> None:
    answer = sale(ecommpay, ATM).json()
    payment_id = answer["payment_id"]
    (first,) = ecommpay.callbacks(payment_id)
    assert signing.is_valid(first, [SECRET])
    assert first["project_id"] == PROJECT
    assert first["payment"]["status"] == "processing"
    operation = first["operation"]
    assert (operation["type"], operation["status"]) == ("sale", "awaiting redirect result")
    assert operation["request_id"] == answer["request_id"]
    assert operation["sum_initial"] == {"amount": 300_000, "currency": "VND"}
    url = f"{ecommpay.base_url}/bank/{payment_id}"
    assert first["redirect_data"] == {"method": "GET", "body": [], "encrypted": [], "url": url}

    page = HTTP.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in page.text and '<label for="amount">' in page.text
    assert 'lang="en">Pay</button>' in page.text and "300.000\u00a0₫" in page.text

    paid = HTTP.post(f"{url}/pay", json={"amount": 290_000})
    assert paid.json() == {"payment_id": payment_id, "status": "success", "delivered": False}
    final = ecommpay.callbacks(payment_id)[-1]
    assert signing.is_valid(final, [SECRET])
    assert set(final) == {"project_id", "payment", "operation", "customer", "signature"}
    assert final["payment"] == {
        "id": payment_id,
        "type": "purchase",
        "status": "success",
        "date": final["payment"]["date"],
        "method": "ATM Vietnam banking",
        "sum": {"amount": 290_000, "currency": "VND"},
        "description": "",
    }
    assert final["customer"] == {"id": "c-1"}
    operation = final["operation"]
    assert set(operation) == {
        *("id", "type", "status", "date", "created_date", "request_id", "sum_initial"),
        *("sum_converted", "provider", "code", "message"),
    }
    assert (operation["status"], operation["code"], operation["message"]) == (
        "success", "0", "Success",
    )  # fmt: skip
    assert operation["sum_initial"]["amount"] == 300_000
    assert set(operation["provider"]) == {"id", "payment_id", "auth_code"}
    assert "redirect_data" not in final
    again = HTTP.post(f"{url}/decline", json={})
    assert again.status_code == 409 and again.json()["code"] == "3060"


def test_decline_from_the_bank_page_form(ecommpay: PlatformSandbox) -> None:
    payment_id = accepted(ecommpay, WALLET)
    url = ecommpay.callbacks(payment_id)[0]["redirect_data"]["url"]
    declined = HTTP.post(f"{url}/decline", data={})
    assert declined.status_code == 303 and declined.headers["location"] == f"/bank/{payment_id}"
    page = HTTP.get(url).text
    assert "Declined" in page and "20102" in page and "<form" not in page
    final = ecommpay.callbacks(payment_id)[-1]
    assert final["payment"]["method"] == "Nganluong wallet"
    assert (final["payment"]["status"], final["operation"]["status"]) == ("decline", "decline")
    assert (final["operation"]["code"], final["operation"]["message"]) == (
        "20102", "Incorrect account data entered",
    )  # fmt: skip
    assert final["payment"]["sum"]["amount"] == 300_000


def test_pay_from_the_form_with_an_amount_redirects_back(ecommpay: PlatformSandbox) -> None:
    payment_id = accepted(ecommpay, WALLET)
    paid = HTTP.post(f"{ecommpay.base_url}/bank/{payment_id}/pay", data={"amount": "1000"})
    assert paid.status_code == 303
    assert ecommpay.callbacks(payment_id)[-1]["payment"]["sum"]["amount"] == 1000
    bad = HTTP.post(
        f"{ecommpay.base_url}/bank/{accepted(ecommpay, WALLET)}/pay", data={"amount": "x"}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "502"


def test_unknown_atm_bank_is_declined_2801(ecommpay: PlatformSandbox) -> None:
    payment_id = accepted(ecommpay, ATM, account={"bank_id": 4242})
    (final,) = ecommpay.callbacks(payment_id)  # no redirect first
    assert signing.is_valid(final, [SECRET])
    assert final["payment"]["status"] == "decline"
    assert (final["operation"]["code"], final["operation"]["message"]) == (
        "2801",
        "Bank ID not found",
    )
    assert final["operation"]["errors"] == [
        {
            "code": "2801",
            "message": "Bank ID not found",
            "description": "Gate. Bank ID was not found in request",
        }
    ]


# -- ATM channel 2: clarification -------------------------------------------------------------


def test_channel_2_clarification_round_trip(
    ecommpay: PlatformSandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    settings(ecommpay, atm_channel=2)
    lean = {"email": "a@example.com", "ip_address": "198.51.100.1"}
    payment_id = accepted(ecommpay, ATM, customer=lean, account={"bank_id": 135})
    (asked,) = ecommpay.callbacks(payment_id)
    assert signing.is_valid(asked, [SECRET]) and "customer" not in asked
    assert asked["payment"]["status"] == asked["operation"]["status"] == "awaiting clarification"
    card_schema = {
        "type": "object",
        "properties": {"pan": {"type": "string"}, "card_holder": {"type": "string"},
                       "year": {"type": "integer"}, "month": {"type": "integer"}},
        "required": ["pan", "card_holder", "year", "month"],
    }  # fmt: skip
    assert asked["clarification_fields"] == {
        "type": "object",
        "properties": {"card": card_schema},
        "required": ["card"],
    }
    assert hook(ecommpay, payment_id, "transfer").status_code == 409  # nothing to pay yet
    status = post(ecommpay, "/v2/payment/status", general(payment_id)).json()
    assert status["clarification_fields"] == asked["clarification_fields"]

    clarify = f"{ecommpay.base_url}/v2/payment/clarification"
    partial = general(payment_id, card={k: v for k, v in CARD.items() if k != "month"})
    refused = HTTP.post(clarify, json=partial)
    assert (refused.status_code, refused.json()) == (
        400, error("2004", "Required field not provided: card.month"),
    )  # fmt: skip
    assert HTTP.post(clarify, json=general(payment_id, card=CARD) | {"x": 1}).status_code == 401
    answer = HTTP.post(clarify, json=general(payment_id, card=CARD))
    assert answer.status_code == 200
    assert answer.json()["status"] == "success" and answer.json()["payment_id"] == payment_id
    redirect = ecommpay.callbacks(payment_id)[-1]
    assert redirect["operation"]["status"] == "awaiting redirect result"
    assert redirect["redirect_data"]["url"] == f"{ecommpay.base_url}/bank/{payment_id}"
    again = HTTP.post(clarify, json=general(payment_id, card=CARD))
    assert (again.status_code, again.json()["code"]) == (400, "3060")

    assert hook(ecommpay, payment_id, "transfer").json()["status"] == "success"
    callbacks = ecommpay.callbacks(payment_id)
    assert [c["payment"]["status"] for c in callbacks] == [
        "awaiting clarification", "processing", "success",
    ]  # fmt: skip
    snapshot = ecommpay.payment(payment_id)
    assert snapshot is not None and snapshot["card"] == MASKED
    over_http = HTTP.get(f"{ecommpay.base_url}/_sandbox/payments/{payment_id}").text
    logged = capfd.readouterr()
    for text in (json.dumps(snapshot), json.dumps(callbacks), over_http, logged.err, logged.out):
        assert PAN not in text


@pytest.mark.parametrize(("bank_id", "card"), [(135, CARD), (136, None)])
def test_channel_2_redirects_straight_away_when_no_card_is_missing(
    ecommpay: PlatformSandbox, bank_id: int, card: dict[str, Any] | None
) -> None:
    settings(ecommpay, atm_channel=2)
    extra = {"card": card} if card else {}
    payment_id = accepted(ecommpay, ATM, account={"bank_id": bank_id}, **extra)
    (first,) = ecommpay.callbacks(payment_id)
    assert first["operation"]["status"] == "awaiting redirect result"
    assert PAN not in json.dumps(ecommpay.payment(payment_id)) + json.dumps(first)


# -- Monetix: instructions, test amounts, series ----------------------------------------------


def titles(callback: dict[str, Any]) -> list[str]:
    return [item["title"] for item in callback["display_data"]]


def test_monetix_instructions_option_2_then_option_1(monetix: PlatformSandbox) -> None:
    one = accepted(monetix, TRANSFER)
    (first,) = monetix.callbacks(one)
    assert signing.is_valid(first, [SECRET])
    assert first["payment"]["status"] == "processing"
    assert first["operation"]["status"] == "awaiting customer action"
    assert titles(first) == ["transfer_code", "account_no", "account_name", "request_amount",
                             "code", "bank_name", "bank_abbr"]  # fmt: skip
    data = {item["title"]: item["data"] for item in first["display_data"]}
    assert data["request_amount"] == "300000" and data["code"] == "MBBANK"
    assert {item["type"] for item in first["display_data"]} == {"add_info"}
    two = accepted(monetix, TRANSFER, customer={**CUSTOMER, "id": "c-2"})
    other = {i["title"]: i["data"] for i in monetix.callbacks(two)[0]["display_data"]}
    assert other["transfer_code"] != data["transfer_code"]  # per payment

    assert settings(monetix, display_option=1).json()["display_option"] == 1
    three = accepted(monetix, TRANSFER, customer={**CUSTOMER, "id": "c-3"})
    assert titles(monetix.callbacks(three)[0]) == ["bankName", "number", "fullName", "branch",
                                                   "content", "swiftCode"]  # fmt: skip


def test_monetix_page_shows_the_details_with_readable_labels(monetix: PlatformSandbox) -> None:
    """The customer page names each transfer detail in words and the amount in one format."""
    payment_id = accepted(monetix, TRANSFER)
    page = HTTP.get(f"{monetix.base_url}/bank/{payment_id}").text
    assert "Nội dung chuyển khoản" in page and "Số tài khoản" in page
    assert "300.000\u00a0₫" in page and ">300000<" not in page
    for title in ("transfer_code", "account_no", "request_amount", "bank_abbr"):
        assert f">{title}<" not in page


def test_monetix_transfer_succeeds_with_the_amount_paid(monetix: PlatformSandbox) -> None:
    payment_id = accepted(monetix, TRANSFER)
    assert hook(monetix, payment_id, "transfer", amount=310_000).json()["status"] == "success"
    final = monetix.callbacks(payment_id)[-1]
    assert signing.is_valid(final, [SECRET])
    assert final["payment"]["method"] == "Vietnam bank transfer"
    assert final["payment"]["sum"] == {"amount": 310_000, "currency": "VND"}
    assert final["operation"]["sum_initial"] == {"amount": 300_000, "currency": "VND"}
    assert set(final["account"]) == {"number", "customer_name", "bank_code"}
    assert "display_data" not in final
    snapshot = monetix.payment(payment_id)
    assert snapshot is not None
    assert (snapshot["amount"], snapshot["paid_amount"]) == (300_000, 310_000)


def test_monetix_redirect_scenario(monetix: PlatformSandbox) -> None:
    settings(monetix, bank_transfer_scenario="redirect")
    payment_id = accepted(monetix, TRANSFER)
    (first,) = monetix.callbacks(payment_id)
    assert first["operation"]["status"] == "awaiting redirect result"
    assert first["redirect_data"]["url"] == f"{monetix.base_url}/bank/{payment_id}"
    assert "display_data" not in first


@pytest.mark.parametrize("amount", [400, 404])
def test_monetix_test_amounts_are_declined_20000(monetix: PlatformSandbox, amount: int) -> None:
    payment_id = accepted(monetix, TRANSFER, payment={"amount": amount, "currency": "VND"})
    first, final = monetix.callbacks(payment_id)
    assert "display_data" in first
    assert (final["payment"]["status"], final["operation"]["code"]) == ("decline", "20000")
    assert final["operation"]["message"] == "General decline"
    assert signing.is_valid(final, [SECRET])
    assert hook(monetix, payment_id, "transfer").status_code == 409


def test_monetix_series_share_instructions_and_3613(monetix: PlatformSandbox) -> None:
    customer = {**CUSTOMER, "id": "series"}
    first = accepted(monetix, TRANSFER, customer=customer)
    second = accepted(monetix, TRANSFER, customer=customer)
    third = accepted(monetix, TRANSFER, customer=customer)
    other = accepted(monetix, TRANSFER, customer=customer, payment={"amount": 1, "currency": "VND"})
    stranger = accepted(monetix, TRANSFER)  # same amount, another customer
    shared = monetix.callbacks(first)[0]["display_data"]
    assert monetix.callbacks(second)[0]["display_data"] == shared
    assert monetix.callbacks(third)[0]["display_data"] == shared
    for unrelated in (other, stranger):
        assert monetix.callbacks(unrelated)[0]["display_data"] != shared
    series = {p: (monetix.payment(p) or {}).get("series") for p in (first, second, third, other)}
    assert series == {first: first, second: first, third: first, other: other}

    hook(monetix, second, "transfer")  # the customer pays one of them
    assert monetix.callbacks(second)[-1]["payment"]["status"] == "success"
    for declined in (first, third):
        final = monetix.callbacks(declined)[-1]
        assert signing.is_valid(final, [SECRET])
        assert final["payment"]["status"] == "decline"
        assert (final["operation"]["code"], final["operation"]["message"]) == (
            "3613", "Duplicate operation",
        )  # fmt: skip
    for untouched in (other, stranger):
        assert monetix.callbacks(untouched)[-1]["payment"]["status"] == "processing"
    fresh = accepted(monetix, TRANSFER, customer=customer)  # the series is over: a new one
    assert monetix.callbacks(fresh)[0]["display_data"] != shared


def test_monetix_series_window() -> None:
    clock = manual_clock()
    sandbox = start("monetix", clock, series_window_seconds=1800.0)
    try:
        first = accepted(sandbox, TRANSFER)
        clock.advance(1800)
        joined = accepted(sandbox, TRANSFER)  # at the window's edge: the same series
        clock.advance(1801)
        second = accepted(sandbox, TRANSFER)  # past the window of both: a new series
        shared = sandbox.callbacks(first)[0]["display_data"]
        assert sandbox.callbacks(joined)[0]["display_data"] == shared
        assert sandbox.callbacks(second)[0]["display_data"] != shared
    finally:
        sandbox.stop()
        clock.stop()


# -- status ----------------------------------------------------------------------------------


def test_status_while_waiting_then_final(monetix: PlatformSandbox) -> None:
    payment_id = accepted(monetix, TRANSFER)
    answer = post(monetix, "/v2/payment/status", general(payment_id))
    assert answer.status_code == 200
    waiting = answer.json()
    assert signing.is_valid(waiting, [SECRET])
    assert waiting["project_id"] == PROJECT and waiting["errors"] == []
    assert (waiting["payment"]["id"], waiting["payment"]["status"]) == (payment_id, "processing")
    assert waiting["payment"]["type"] == "purchase"
    assert waiting["payment"]["sum"] == {"amount": 300_000, "currency": "VND"}
    assert [op["status"] for op in waiting["operations"]] == ["awaiting customer action"]
    assert waiting["display_data"] == monetix.callbacks(payment_id)[0]["display_data"]

    hook(monetix, payment_id, "transfer")
    final = post(monetix, "/v2/payment/status", general(payment_id)).json()
    assert signing.is_valid(final, [SECRET])
    assert final["payment"]["status"] == "success" and "display_data" not in final
    assert (final["operations"][-1]["status"], final["operations"][-1]["code"]) == ("success", "0")


def test_status_of_a_2801_decline_lists_the_errors(ecommpay: PlatformSandbox) -> None:
    payment_id = accepted(ecommpay, ATM, account={"bank_id": 4242})
    answer = post(ecommpay, "/v2/payment/status", general(payment_id)).json()
    assert [e["code"] for e in answer["errors"]] == ["2801"]


def test_status_refusals(monetix: PlatformSandbox) -> None:
    unknown = post(monetix, "/v2/payment/status", general("nope"))
    assert (unknown.status_code, unknown.json()) == (404, error("3061", "Transaction not found"))
    unsigned = post(monetix, "/v2/payment/status", {"general": {"project_id": PROJECT}})
    assert unsigned.status_code == 401


# -- bank lists ------------------------------------------------------------------------------


def bank_list(sandbox: PlatformSandbox, operation: str, secret: str = SECRET) -> httpx.Response:
    request = {
        "general": {"project_id": PROJECT, "payment_id": "x"},
        "payment": {"amount": 1000, "currency": "VND"},
    }
    path = f"/v2/info/banks/atm/vietnam/{operation}/list"
    return post(sandbox, path, signing.with_signature(request, secret))


@pytest.mark.parametrize(("operation", "count"), [("sale", 43), ("payout", 31)])  # lone "+": sale
def test_channel_1_bank_lists(ecommpay: PlatformSandbox, operation: str, count: int) -> None:
    answer = bank_list(ecommpay, operation)
    assert answer.status_code == 200
    rows = answer.json()
    assert len(rows) == count
    assert rows[0] == {"id": 139, "name": "Agribank"}
    assert all(set(row) == {"id", "name"} for row in rows)


def test_channel_2_bank_lists_and_signature(ecommpay: PlatformSandbox) -> None:
    """Purchases: every row of the docs' Table 2; payouts: "Payouts are processed by using one
    channel", so the same list as on channel 1 (the rows with "+ +" in Table 1 or 2)."""
    channel_1_payouts = bank_list(ecommpay, "payout").json()
    settings(ecommpay, atm_channel=2)
    assert len(bank_list(ecommpay, "sale").json()) == 41
    assert bank_list(ecommpay, "payout").json() == channel_1_payouts
    assert {"id": 130, "name": "DongA Joint Stock Commercial Bank"} in channel_1_payouts
    assert 464 not in {row["id"] for row in channel_1_payouts}  # ANZ: a lone "+" (unknown)
    assert bank_list(ecommpay, "sale", secret="wrong").status_code == 401


def test_the_payout_examples_donga_130_is_accepted_on_channel_2(ecommpay: PlatformSandbox) -> None:
    """The ATM docs' payout example (bank 130, region 137) on a channel-2 project."""
    settings(ecommpay, atm_channel=2)
    payout_id = accepted(ecommpay, ATM_PAYOUT, account={"bank_id": 130, "region_id": 137},
                         card=CARD)  # fmt: skip
    assert ecommpay.callbacks(payout_id) == []  # waits for its result: not declined
    hook(ecommpay, payout_id, "transfer")
    assert ecommpay.callbacks(payout_id)[-1]["payment"]["status"] == "success"


@pytest.mark.parametrize("bank_id", [464, 4242])  # ANZ: purchases only (a lone "+"); unknown
def test_a_payout_to_a_bank_without_payouts_is_declined_2801(
    ecommpay: PlatformSandbox, bank_id: int
) -> None:
    payout_id = accepted(ecommpay, ATM_PAYOUT, account={"bank_id": bank_id, "region_id": 137},
                         card=CARD)  # fmt: skip
    (final,) = ecommpay.callbacks(payout_id)
    assert (final["payment"]["type"], final["payment"]["status"]) == ("payout", "decline")
    assert final["operation"]["code"] == "2801"
    assert final["account"]["number"] == MASKED


def test_a_payout_region_outside_table_3_is_refused(ecommpay: PlatformSandbox) -> None:
    answer = sale(ecommpay, ATM_PAYOUT, account={"bank_id": 136, "region_id": 1}, card=CARD)
    assert (answer.status_code, answer.json()["code"]) == (400, "502")


@pytest.mark.parametrize(("bank_id", "declined"), [(205, False), (131, False), (4242, True)])
def test_monetix_banks_are_table_1_and_the_gate_examples_205(
    monetix: PlatformSandbox, bank_id: int, declined: bool
) -> None:
    payment_id = accepted(monetix, TRANSFER, account={"bank_id": bank_id})
    first = monetix.callbacks(payment_id)[0]
    assert (first["payment"]["status"] == "decline") is declined
    if declined:
        assert first["operation"]["code"] == "2801"


# -- Payment Page ----------------------------------------------------------------------------


def page_url(sandbox: PlatformSandbox, **params: str) -> tuple[str, str]:
    """A signed Payment Page URL, and its payment id."""
    signed = {
        "project_id": str(PROJECT),
        "payment_id": f"pp-{next(counter)}",
        "payment_amount": "90000",
        "payment_currency": "VND",
        "force_payment_method": "nganluong-wallet",
        "customer_id": "c",
        "customer_email": "a@example.com",
        "customer_phone": "84438336996",
        "language_code": "vi",
        **params,
    }
    query = urlencode({**signed, "signature": signing.sign(signed, SECRET)})
    return f"{sandbox.base_url}/payment?{query}", signed["payment_id"]


def test_payment_page_shows_registers_and_pays(ecommpay: PlatformSandbox) -> None:
    url, payment_id = page_url(ecommpay)
    page = HTTP.get(url)
    assert page.status_code == 200 and "90.000\u00a0₫" in page.text
    assert f'action="/payment/{payment_id}/pay"' in page.text
    assert HTTP.get(url + "&frame_mode=iframe").status_code == 200  # frame_mode is not signed
    assert ecommpay.callbacks(payment_id) == []  # the page itself sends nothing
    paid = HTTP.post(f"{ecommpay.base_url}/payment/{payment_id}/pay", json={})
    assert paid.json() == {"payment_id": payment_id, "status": "success", "delivered": False}
    (final,) = ecommpay.callbacks(payment_id)
    assert signing.is_valid(final, [SECRET])
    assert final["payment"]["method"] == "Nganluong wallet"
    assert final["payment"]["sum"] == {"amount": 90_000, "currency": "VND"}
    assert final["customer"] == {"id": "c"}
    assert "Paid" in HTTP.get(url).text  # the same payment again, now final


def test_payment_page_decline_form_redirects_to_the_page(ecommpay: PlatformSandbox) -> None:
    settings(ecommpay, atm_channel=2)  # channel 2 needs no customer parameters
    url, payment_id = page_url(
        ecommpay, force_payment_method="vietnam-atm", customer_id="", customer_email="",
        customer_phone="",
    )  # fmt: skip
    assert HTTP.get(url).status_code == 200
    declined = HTTP.post(f"{ecommpay.base_url}/payment/{payment_id}/decline", data={})
    assert declined.status_code == 303
    assert declined.headers["location"] == f"/payment/{payment_id}"
    assert "Declined" in HTTP.get(f"{ecommpay.base_url}{declined.headers['location']}").text
    (final,) = ecommpay.callbacks(payment_id)
    assert (final["payment"]["method"], final["operation"]["code"]) == (
        "ATM Vietnam banking", "20102",
    )  # fmt: skip
    assert "customer" not in final


def test_payment_page_refusals(ecommpay: PlatformSandbox) -> None:
    url, _ = page_url(ecommpay)
    forged = HTTP.get(url.replace("signature=", "signature=x"))
    assert forged.status_code == 401 and "Invalid signature" in forged.text
    assert forged.headers["content-type"].startswith("text/html")
    cases = {
        "customer_email": page_url(ecommpay, customer_email="")[0],
        "customer_phone": page_url(ecommpay, customer_phone="")[0],
        "payment_amount": page_url(ecommpay, payment_amount="12.5")[0],
        "payment_currency": page_url(ecommpay, payment_currency="USD")[0],
        "project_id": page_url(ecommpay, project_id="1")[0],
        "force_payment_method": page_url(ecommpay, force_payment_method="bank-transfer-vietnam")[0],
    }
    for name, bad in cases.items():
        answer = HTTP.get(bad)
        assert answer.status_code == 400 and name in answer.text, name


def test_monetix_payment_page_shows_the_instructions(monetix: PlatformSandbox) -> None:
    params = {"force_payment_method": "bank-transfer-vietnam", "customer_first_name": "An",
              "customer_last_name": "Nguyen", "customer_phone": ""}  # fmt: skip
    missing, _ = page_url(monetix, **{**params, "customer_last_name": ""})
    assert "customer_last_name" in HTTP.get(missing).text
    url, payment_id = page_url(monetix, **params)
    page = HTTP.get(url).text
    assert "Nội dung chuyển khoản" in page and "Transfer code" in page  # the titles, in words
    status = post(monetix, "/v2/payment/status", general(payment_id)).json()
    assert status["payment"]["status"] == "processing" and "display_data" not in status
    assert hook(monetix, payment_id, "transfer").json()["status"] == "success"
    assert monetix.callbacks(payment_id)[-1]["account"]["bank_code"] == "Vietinbank"


# -- hooks and faults ------------------------------------------------------------------------


def test_settings_hook(ecommpay: PlatformSandbox) -> None:
    current = settings(ecommpay).json()
    assert current == {"atm_channel": 1, "bank_transfer_scenario": "instructions",
                       "display_option": 2, "callbacks": "deliver",
                       "status_query": "normal", "timeout_delay_seconds": 0.3}  # fmt: skip
    changed = settings(ecommpay, atm_channel=2, bank_transfer_scenario="redirect")
    assert changed.json() == {**current, "atm_channel": 2, "bank_transfer_scenario": "redirect"}
    assert ecommpay.config.atm_channel == 2
    for bad in ({"atm_channel": 3}, {"atm_channel": True}, {"display_option": "1"},
                {"colour": "blue"}):  # fmt: skip
        answer = settings(ecommpay, **bad)
        assert answer.status_code == 400 and answer.json()["code"] == "502", bad
    assert settings(ecommpay).json()["atm_channel"] == 2


def test_faults(monetix: PlatformSandbox) -> None:
    url = f"{monetix.base_url}/_sandbox/faults"
    HTTP.post(url, json={"kind": "server_error", "count": 1})
    assert sale(monetix, TRANSFER).status_code == 503
    HTTP.post(url, json={"kind": "reject", "count": 1})
    rejected = sale(monetix, TRANSFER)
    assert (rejected.status_code, rejected.json()) == (400, error("100", "General decline"))
    HTTP.post(url, json={"kind": "timeout", "count": 1})
    began = time.monotonic()
    slow = sale(monetix, TRANSFER)
    assert slow.status_code == 200 and time.monotonic() - began >= 0.3  # then answers normally
    assert HTTP.post(url, json={"kind": "reject", "count": 2}).json()["queued"] == ["reject"] * 2
    assert HTTP.delete(url).json() == {"cleared": 2}
    assert sale(monetix, TRANSFER).status_code == 200
    assert HTTP.post(url, json={"kind": "boom"}).status_code == 400
    assert HTTP.post(url, json={"kind": "reject", "count": 0}).status_code == 400


def test_health_snapshot_and_http_edges(ecommpay: PlatformSandbox) -> None:
    assert HTTP.get(f"{ecommpay.base_url}/_sandbox/health").json() == {"ok": True}
    payment_id = accepted(ecommpay, WALLET)
    snapshot = HTTP.get(f"{ecommpay.base_url}/_sandbox/payments/{payment_id}").json()
    assert (snapshot["status"], snapshot["amount"], snapshot["method"]) == (
        "processing", 300_000, "nganluong_wallet",
    )  # fmt: skip
    assert snapshot["callbacks"][0]["attempts"] == []  # kept, not sent
    assert HTTP.get(f"{ecommpay.base_url}/_sandbox/payments/nope").status_code == 404
    assert HTTP.get(f"{ecommpay.base_url}/bank/nope").status_code == 404
    big = HTTP.post(f"{ecommpay.base_url}{WALLET}", content=b"x" * (70 * 1024))
    assert big.status_code == 413
    sale = f"{ecommpay.base_url}{WALLET}"
    declared = {"Content-Type": "application/json"}
    assert HTTP.post(sale, content=b"{", headers=declared).status_code == 400
    assert HTTP.post(sale, content=b"{}").status_code == 415  # a body not declared JSON
    resent = hook(ecommpay, payment_id, "resend").json()
    assert resent == {"payment_id": payment_id, "resent": True, "delivered": False}
    ecommpay.stop()
    ecommpay.stop()  # idempotent


# -- delivery --------------------------------------------------------------------------------


class Receiver:
    """The merchant's callback endpoint: answers the given statuses in turn, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[bytes] = []
        self.headers: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.headers.append(self.headers["Content-Type"])
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/ecommpay"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int) -> list[bytes]:
        deadline = time.monotonic() + 5
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)


def test_callbacks_are_delivered_in_time_order_and_retried() -> None:
    receiver = Receiver([500])
    clock = manual_clock()
    sandbox = start("ecommpay", clock, callback_url=receiver.url)
    try:
        payment_id = accepted(sandbox, WALLET)
        assert len(receiver.wait_for(1)) == 1  # the redirect's first attempt: 500
        url = sandbox.callbacks(payment_id)[0]["redirect_data"]["url"]
        paid = HTTP.post(f"{url}/pay", json={}).json()
        assert paid["delivered"] is True  # the success goes at once
        assert len(receiver.wait_for(2)) == 2
        clock.advance(9)
        assert len(receiver.received) == 2  # the redirect's retry is due 10 s after
        clock.advance(1)
        received = receiver.wait_for(3)
        assert len(received) == 3
        assert received[0] == received[2]
        assert [json.loads(r)["payment"]["status"] for r in received] == [
            "processing", "success", "processing",
        ]  # fmt: skip
        assert set(receiver.headers) == {"application/json"}
        assert all(signing.is_valid(json.loads(r), [SECRET]) for r in received)
        snapshot = sandbox.payment(payment_id)
        assert snapshot is not None
        redirect, success = snapshot["callbacks"]
        assert [a["status_code"] for a in redirect["attempts"]] == [500, 200]
        assert redirect["delivered"] and success["delivered"]

        resent = hook(sandbox, payment_id, "resend").json()
        assert resent["delivered"] is True
        assert receiver.wait_for(4)[3] == received[1]  # byte for byte
    finally:
        sandbox.stop()
        clock.stop()
        receiver.server.shutdown()


def test_undeliverable_callbacks_follow_the_documented_schedule_then_give_up() -> None:
    receiver = Receiver([503] * 200)
    clock = manual_clock()
    began = clock.now()
    sandbox = start("ecommpay", clock, callback_url=receiver.url)
    try:
        payment_id = accepted(sandbox, WALLET)
        assert len(receiver.wait_for(1)) == 1
        clock.advance(50)
        assert len(receiver.received) == 6  # 6 attempts, 10 s apart
        clock.advance(11 * 86_400)
        snapshot = sandbox.payment(payment_id)
        assert snapshot is not None
        attempts = snapshot["callbacks"][0]["attempts"]
        assert len(attempts) == len(receiver.received) == 120
        assert snapshot["callbacks"][0]["delivered"] is False
        times = [datetime.fromisoformat(a["at"]) for a in attempts]
        gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
        assert gaps[:5] == [10.0] * 5
        assert gaps[5] == pytest.approx(70 + 10 * 1.12**3, abs=0.01)  # attempt 7
        assert max(gaps) == 4 * 3600
        assert (times[-1] - began).total_seconds() <= 11 * 86_400
    finally:
        sandbox.stop()
        clock.stop()
        receiver.server.shutdown()


def test_lost_and_unreachable_callbacks() -> None:
    receiver = Receiver([])
    clock = manual_clock()
    sandbox = start("ecommpay", clock, callback_url=receiver.url)
    try:
        assert settings(sandbox, callbacks="lost").json()["callbacks"] == "lost"
        lost = accepted(sandbox, WALLET)
        clock.advance(11 * 86_400)
        snapshot = sandbox.payment(lost)
        assert snapshot is not None
        assert snapshot["callbacks"][0]["attempts"] == [] and snapshot["callbacks"][0]["lost"]
        assert receiver.received == []

        settings(sandbox, callbacks="unreachable")
        retried = accepted(sandbox, WALLET)
        clock.advance(30)
        settings(sandbox, callbacks="deliver")
        clock.advance(10)
        snapshot = sandbox.payment(retried)
        assert snapshot is not None
        attempts = snapshot["callbacks"][0]["attempts"]
        assert [a["status_code"] for a in attempts] == [None, None, None, None, 200]
        assert "unreachable" in attempts[0]["error"]
        assert len(receiver.wait_for(1)) == 1
    finally:
        sandbox.stop()
        clock.stop()
        receiver.server.shutdown()


def test_accepted_timeout_fault_keeps_the_payment_and_never_answers(
    ecommpay: PlatformSandbox,
) -> None:
    assert settings(ecommpay, timeout_delay_seconds=0).json()["timeout_delay_seconds"] == 0
    HTTP.post(f"{ecommpay.base_url}/_sandbox/faults", json={"kind": "accepted_timeout"})
    body = body_for()
    with pytest.raises(httpx.TransportError):
        post(ecommpay, WALLET, signing.with_signature(body, SECRET))
    payment_id = body["general"]["payment_id"]
    assert ecommpay.payment(payment_id) is not None  # accepted: the callbacks follow
    again = post(ecommpay, WALLET, signing.with_signature(body, SECRET))
    assert again.status_code == 400 and again.json()["code"] == "3041"
    assert settings(ecommpay, timeout_delay_seconds=-1).status_code == 400


def test_status_query_faults(ecommpay: PlatformSandbox) -> None:
    payment_id = accepted(ecommpay, WALLET)
    hook(ecommpay, payment_id, "transfer")
    settings(ecommpay, status_query="in_progress")
    status = post(ecommpay, "/v2/payment/status", general(payment_id)).json()
    assert status["payment"]["status"] == "processing"
    assert status["operations"][0]["status"] == "processing"
    assert signing.is_valid(status, [SECRET])
    settings(ecommpay, status_query="silent")
    assert post(ecommpay, "/v2/payment/status", general(payment_id)).status_code == 503
    settings(ecommpay, status_query="normal")
    status = post(ecommpay, "/v2/payment/status", general(payment_id)).json()
    assert status["payment"]["status"] == "success"


# -- payouts (ecommpay) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status", "code"), [("transfer", "success", "0"), ("decline", "decline", "3104")]
)
def test_atm_payout_waits_for_its_result_and_keeps_the_card_masked(
    ecommpay: PlatformSandbox, action: str, status: str, code: str
) -> None:
    payout_id = accepted(
        ecommpay, ATM_PAYOUT, account={"bank_id": 136, "region_id": 290}, card=CARD
    )
    assert ecommpay.callbacks(payout_id) == []  # no intermediate callback for payouts
    hook(ecommpay, payout_id, action)
    (final,) = ecommpay.callbacks(payout_id)
    assert (final["payment"]["type"], final["operation"]["type"]) == ("payout", "payout")
    assert (final["payment"]["status"], final["operation"]["code"]) == (status, code)
    assert final["account"]["number"] == MASKED
    assert PAN not in json.dumps(ecommpay.payment(payout_id)) + json.dumps(final)


def test_payout_required_fields(ecommpay: PlatformSandbox) -> None:
    missing = sale(ecommpay, ATM_PAYOUT, account={"bank_id": 136})
    assert missing.json() == error("2004", "Required field not provided: account.region_id")
    wallet = sale(ecommpay, "/v2/payment/wallet/nganluong/payout")
    assert wallet.json() == error("2004", "Required field not provided: account.number")


# -- lifetimes on the clock ------------------------------------------------------------------


def test_clarification_waits_30_minutes_then_the_payment_is_declined() -> None:
    clock = manual_clock()
    sandbox = start("ecommpay", clock, atm_channel=2)
    try:
        lean = {"email": "a@example.com", "ip_address": "198.51.100.1"}
        payment_id = accepted(sandbox, ATM, customer=lean, account={"bank_id": 135})
        clock.advance(30 * 60 - 1)
        assert sandbox.callbacks(payment_id)[-1]["payment"]["status"] == "awaiting clarification"
        clock.advance(1)
        final = sandbox.callbacks(payment_id)[-1]
        assert final["payment"]["status"] == "decline"
        assert final["operation"]["code"] == "20000"
        status = post(sandbox, "/v2/payment/status", general(payment_id)).json()
        assert status["payment"]["status"] == "decline"
    finally:
        sandbox.stop()
        clock.stop()


def test_a_payment_page_stops_accepting_payment_after_best_before() -> None:
    clock = manual_clock()
    sandbox = start("ecommpay", clock)
    try:
        deadline = (clock.now() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")
        url, payment_id = page_url(sandbox, best_before=deadline)
        assert HTTP.get(url).status_code == 200  # registered
        late_url, late_id = page_url(sandbox, best_before=deadline)
        clock.advance(31 * 60)
        (expired,) = sandbox.callbacks(payment_id)
        assert expired["payment"]["status"] == expired["operation"]["status"] == "expired"
        status = post(sandbox, "/v2/payment/status", general(payment_id)).json()
        assert status["payment"]["status"] == "expired"
        paid = HTTP.post(f"{sandbox.base_url}/payment/{payment_id}/pay", json={})
        assert paid.status_code == 409
        assert HTTP.get(late_url).status_code == 400  # opened too late: nothing registered
        assert sandbox.payment(late_id) is None
    finally:
        sandbox.stop()
        clock.stop()


def test_a_payment_page_paid_before_best_before_succeeds() -> None:
    clock = manual_clock()
    sandbox = start("ecommpay", clock)
    try:
        deadline = (clock.now() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")
        url, payment_id = page_url(sandbox, best_before=deadline)
        assert HTTP.get(url).status_code == 200
        clock.advance(29 * 60)
        paid = HTTP.post(f"{sandbox.base_url}/payment/{payment_id}/pay", json={})
        assert paid.json()["status"] == "success"
        clock.advance(3600)
        assert [c["payment"]["status"] for c in sandbox.callbacks(payment_id)] == ["success"]
    finally:
        sandbox.stop()
        clock.stop()
