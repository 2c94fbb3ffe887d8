"""The ecommpay/Monetix platform sandbox over HTTP: signatures, required fields, the callback
sequences, Monetix test amounts and series, clarification, status, bank lists, Payment Page,
delivery with retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from local.sandboxes.platform import PlatformSandbox, PlatformSandboxConfig
from paygate.providers.platform import signing

SECRET = "sandbox-test-secret"
CUSTOMER = {"id": "c-1", "email": "a@example.com", "phone": "84438336996",
            "ip_address": "198.51.100.1", "first_name": "An", "last_name": "Nguyen"}  # fmt: skip
PAN = "4321432154325432"


def start(provider: str, **settings: Any) -> PlatformSandbox:
    config = PlatformSandboxConfig(
        provider=provider,  # type: ignore[arg-type]
        project_id=77,
        secret_key=SECRET,
        callback_retry_delays=(0.05, 0.05),
        **settings,
    )
    sandbox = PlatformSandbox(config)
    sandbox.start()
    return sandbox


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


counter = iter(range(10**6))


def sale(
    sandbox: PlatformSandbox, path: str, secret: str = SECRET, **fields: Any
) -> httpx.Response:
    body = {
        "general": {"project_id": 77, "payment_id": f"p-{next(counter)}"},
        "customer": CUSTOMER,
        "payment": {"amount": 300_000, "currency": "VND"},
        "return_url": {"success": "https://m.example/ok", "decline": "https://m.example/ko"},
        **fields,
    }
    return httpx.post(f"{sandbox.base_url}{path}", json=signing.with_signature(body, secret))


ATM = "/v2/payment/atm/vietnam/sale"
WALLET = "/v2/payment/wallet/nganluong/sale"
TRANSFER = "/v2/payment/bank-transfer/vietnam/sale"


def test_signature_project_and_provider_checks(ecommpay: PlatformSandbox) -> None:
    assert sale(ecommpay, WALLET, secret="wrong").status_code == 401
    assert sale(ecommpay, WALLET, general={"project_id": 1, "payment_id": "x"}).status_code == 401
    unsigned = httpx.post(f"{ecommpay.base_url}{WALLET}", json={"general": {"project_id": 77}})
    assert unsigned.json() == {"status": "error", "code": "1001", "message": "Invalid signature"}
    assert sale(ecommpay, TRANSFER).status_code == 404  # Monetix's method


def test_required_fields_and_duplicates(ecommpay: PlatformSandbox) -> None:
    missing = sale(ecommpay, ATM)  # channel 1 needs account.bank_id
    assert (missing.status_code, missing.json()["code"]) == (400, "2004")
    assert "account.bank_id" in missing.json()["message"]
    general = {"project_id": 77, "payment_id": "dup-1"}
    assert sale(ecommpay, WALLET, general=general).json()["status"] == "success"
    again = sale(ecommpay, WALLET, general=general)
    assert (again.status_code, again.json()["code"]) == (400, "3041")


def test_redirect_then_pay_with_a_valid_signature(ecommpay: PlatformSandbox) -> None:
    answer = sale(ecommpay, ATM, account={"bank_id": 136}).json()
    payment_id = answer["payment_id"]
    first = ecommpay.callbacks(payment_id)[0]
    assert first["operation"]["status"] == "awaiting redirect result"
    url = first["redirect_data"]["url"]
    assert httpx.get(url).status_code == 200
    assert httpx.post(f"{url}/pay", json={"amount": 290_000}).json()["status"] == "success"
    final = ecommpay.callbacks(payment_id)[-1]
    assert signing.is_valid(final, [SECRET])
    assert (final["payment"]["sum"]["amount"], final["operation"]["sum_initial"]["amount"]) == (
        290_000,
        300_000,
    )
    assert httpx.post(f"{url}/decline", json={}).status_code == 409


def test_unknown_atm_bank_is_declined_2801(ecommpay: PlatformSandbox) -> None:
    payment_id = sale(ecommpay, ATM, account={"bank_id": 4242}).json()["payment_id"]
    final = ecommpay.callbacks(payment_id)[-1]
    assert (final["payment"]["status"], final["operation"]["code"]) == ("decline", "2801")


def test_channel_2_clarification_round_trip_never_keeps_the_pan(ecommpay: PlatformSandbox) -> None:
    httpx.post(f"{ecommpay.base_url}/_sandbox/settings", json={"atm_channel": 2})
    payment_id = sale(ecommpay, ATM, account={"bank_id": 135}).json()["payment_id"]
    asked = ecommpay.callbacks(payment_id)[0]
    assert asked["payment"]["status"] == "awaiting clarification"
    assert set(asked["clarification_fields"]["properties"]["card"]["properties"]) == {
        "pan", "card_holder", "year", "month",
    }  # fmt: skip
    general = {"project_id": 77, "payment_id": payment_id}
    partial = signing.with_signature({"general": general, "card": {"pan": PAN}}, SECRET)
    assert (
        httpx.post(f"{ecommpay.base_url}/v2/payment/clarification", json=partial).json()["code"]
        == "2004"
    )
    card = {"pan": PAN, "card_holder": "AN", "year": 2030, "month": 1}
    body = signing.with_signature({"general": general, "card": card}, SECRET)
    assert httpx.post(f"{ecommpay.base_url}/v2/payment/clarification", json=body).status_code == 200
    assert "redirect_data" in ecommpay.callbacks(payment_id)[-1]
    snapshot = json.dumps(ecommpay.payment(payment_id))
    assert PAN not in snapshot and "432143******5432" in snapshot


def test_monetix_instructions_options_and_test_amounts(monetix: PlatformSandbox) -> None:
    one = sale(monetix, TRANSFER).json()["payment_id"]
    titles = [item["title"] for item in monetix.callbacks(one)[0]["display_data"]]
    assert titles[0] == "transfer_code"
    httpx.post(f"{monetix.base_url}/_sandbox/settings", json={"display_option": 1})
    two = sale(monetix, TRANSFER, customer={**CUSTOMER, "id": "c-2"}).json()["payment_id"]
    assert monetix.callbacks(two)[0]["display_data"][0]["title"] == "bankName"
    for amount in (400, 404):
        declined = sale(monetix, TRANSFER, payment={"amount": amount, "currency": "VND"})
        final = monetix.callbacks(declined.json()["payment_id"])[-1]
        assert (final["payment"]["status"], final["operation"]["code"]) == ("decline", "20000")


def test_monetix_series_and_3613(monetix: PlatformSandbox) -> None:
    customer = {**CUSTOMER, "id": "series"}
    first = sale(monetix, TRANSFER, customer=customer).json()["payment_id"]
    second = sale(monetix, TRANSFER, customer=customer).json()["payment_id"]
    other = sale(monetix, TRANSFER, customer=customer, payment={"amount": 1, "currency": "VND"})
    assert (
        monetix.callbacks(first)[0]["display_data"] == monetix.callbacks(second)[0]["display_data"]
    )
    httpx.post(f"{monetix.base_url}/_sandbox/payments/{first}/transfer", json={})
    assert monetix.callbacks(second)[-1]["operation"]["code"] == "3613"
    assert monetix.payment(other.json()["payment_id"])["status"] == "processing"  # type: ignore[index]


def test_status_query(monetix: PlatformSandbox) -> None:
    payment_id = sale(monetix, TRANSFER).json()["payment_id"]
    body = signing.with_signature({"general": {"project_id": 77, "payment_id": payment_id}}, SECRET)
    answer = httpx.post(f"{monetix.base_url}/v2/payment/status", json=body).json()
    assert answer["payment"]["status"] == "processing" and "display_data" in answer
    assert signing.is_valid(answer, [SECRET])
    lost = signing.with_signature({"general": {"project_id": 77, "payment_id": "nope"}}, SECRET)
    missing = httpx.post(f"{monetix.base_url}/v2/payment/status", json=lost)
    assert (missing.status_code, missing.json()["code"]) == (404, "3061")


@pytest.mark.parametrize(("operation", "count"), [("sale", 43), ("payout", 31)])
def test_bank_lists(ecommpay: PlatformSandbox, operation: str, count: int) -> None:
    request = {
        "general": {"project_id": 77, "payment_id": "x"},
        "payment": {"amount": 1000, "currency": "VND"},
    }
    body = signing.with_signature(request, SECRET)
    path = f"{ecommpay.base_url}/v2/info/banks/atm/vietnam/{operation}/list"
    assert len(httpx.post(path, json=body).json()) == count


def page_url(sandbox: PlatformSandbox, **params: str) -> str:
    signed = {
        "project_id": "77",
        "payment_id": f"pp-{next(counter)}",
        "payment_amount": "90000",
        "payment_currency": "VND",
        "force_payment_method": "nganluong-wallet",
        "customer_id": "c",
        "customer_email": "a@example.com",
        "customer_phone": "1",
        **params,
    }
    query = urlencode({**signed, "signature": signing.sign(signed, SECRET)})
    return f"{sandbox.base_url}/payment?{query}"


def test_payment_page(ecommpay: PlatformSandbox) -> None:
    url = page_url(ecommpay)
    assert httpx.get(url).status_code == 200
    assert httpx.get(url.replace("signature=", "signature=x")).status_code == 401
    missing = httpx.get(page_url(ecommpay, customer_email=""))
    assert missing.status_code == 400 and "customer_email" in missing.text
    payment_id = url.split("payment_id=")[1].split("&")[0]
    paid = httpx.post(f"{ecommpay.base_url}/payment/{payment_id}/pay", json={})
    assert paid.json()["status"] == "success"
    assert ecommpay.callbacks(payment_id)[-1]["payment"]["status"] == "success"


def test_faults(monetix: PlatformSandbox) -> None:
    httpx.post(f"{monetix.base_url}/_sandbox/faults", json={"kind": "server_error", "count": 1})
    assert sale(monetix, TRANSFER).status_code == 503
    httpx.post(f"{monetix.base_url}/_sandbox/faults", json={"kind": "reject", "count": 1})
    assert sale(monetix, TRANSFER).json()["code"] == "100"
    assert sale(monetix, TRANSFER).status_code == 200


def test_callbacks_are_delivered_and_retried() -> None:
    answers = iter([500, 200, 200, 200])
    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(next(answers))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox = start("ecommpay", callback_url=f"http://127.0.0.1:{server.server_port}/cb")
    try:
        payment_id = sale(sandbox, WALLET).json()["payment_id"]
        url = sandbox.callbacks(payment_id)[0]["redirect_data"]["url"]
        assert httpx.post(f"{url}/pay", json={}, timeout=10).json()["delivered"] is True
        deadline = time.monotonic() + 5
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(received) == 3  # redirect (500, then retried), success
        assert received[0] == received[1]
        assert json.loads(received[2])["payment"]["status"] == "success"
    finally:
        sandbox.stop()
        server.shutdown()


ATM_PAYOUT = "/v2/payment/atm/vietnam/payout"


@pytest.mark.parametrize(("hook", "status", "code"), [("transfer", "success", "0"),
                                                      ("decline", "decline", "3104")])  # fmt: skip
def test_atm_payout_waits_for_its_result_and_keeps_the_card_masked(
    ecommpay: PlatformSandbox, hook: str, status: str, code: str
) -> None:
    card = {"pan": PAN, "card_holder": "AN", "year": 2030, "month": 1}
    answer = sale(ecommpay, ATM_PAYOUT, account={"bank_id": 136, "region_id": 290}, card=card)
    payout_id = answer.json()["payment_id"]
    assert ecommpay.callbacks(payout_id) == []  # no intermediate callback for payouts
    httpx.post(f"{ecommpay.base_url}/_sandbox/payments/{payout_id}/{hook}", json={})
    (final,) = ecommpay.callbacks(payout_id)
    assert (final["payment"]["type"], final["operation"]["type"]) == ("payout", "payout")
    assert (final["payment"]["status"], final["operation"]["code"]) == (status, code)
    assert final["account"]["number"] == "432143******5432"
    assert PAN not in json.dumps(ecommpay.payment(payout_id))


def test_payout_required_fields(ecommpay: PlatformSandbox) -> None:
    missing = sale(ecommpay, ATM_PAYOUT, account={"bank_id": 136})
    assert missing.json()["code"] == "2004" and "account.region_id" in missing.json()["message"]
    wallet = sale(ecommpay, "/v2/payment/wallet/nganluong/payout")
    assert "account.number" in wallet.json()["message"]
