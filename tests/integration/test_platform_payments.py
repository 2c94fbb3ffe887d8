"""POST /v1/ecommpay/payments and /v1/monetix/payments, the clarification and bank-list routes,
and the gateway's status query: the real handlers, moto, and the platform sandboxes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from paygate import wiring
from paygate.domain import Method, Operation
from paygate.errors import ProviderError
from paygate.providers.platform.banks import LiveBanks, LiveList
from paygate.settings import EcommpaySettings, MonetixSettings, load_settings
from tests.support.stored import searchable

from .conftest import Api, body_of
from .platform_support import (
    ATM_ORDER,
    CUSTOMER,
    JSON,
    TRANSFER_ORDER,
    WALLET_ORDER,
    create,
    deliver_sandbox_callbacks,
    get,
    items,
)

CARD = {"pan": "4321432154325432", "card_holder": "NGUYEN AN", "year": 2030, "month": 11}


def refused(api: Api, provider: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.call("POST", f"/v1/{provider}/payments", body, JSON)
    assert response["statusCode"] == 422, response
    error: dict[str, Any] = body_of(response)["error"]
    return error


@pytest.fixture
def sandbox_settings(ecommpay_sandbox: PlatformSandbox, monetix_sandbox: PlatformSandbox) -> Any:
    """Change a sandbox's project settings for one test; restored afterwards."""
    changed: list[tuple[PlatformSandbox, dict[str, Any]]] = []

    def change(sandbox: PlatformSandbox, **settings: Any) -> None:
        before = httpx.post(f"{sandbox.base_url}/_sandbox/settings", json={}).json()
        changed.append((sandbox, before))
        assert httpx.post(f"{sandbox.base_url}/_sandbox/settings", json=settings).status_code == 200

    yield change
    for sandbox, before in reversed(changed):
        httpx.post(f"{sandbox.base_url}/_sandbox/settings", json=before)


@pytest.mark.parametrize(
    ("provider", "order"),
    [("ecommpay", ATM_ORDER), ("ecommpay", WALLET_ORDER), ("monetix", TRANSFER_ORDER)],
    ids=["napas_atm", "nganluong_wallet", "bank_transfer"],
)
def test_gate_purchase_is_pending_then_the_callbacks_move_it(
    api: Api,
    aws: Provisioned,
    ecommpay_sandbox: PlatformSandbox,
    monetix_sandbox: PlatformSandbox,
    provider: str,
    order: dict[str, Any],
) -> None:
    sandbox = ecommpay_sandbox if provider == "ecommpay" else monetix_sandbox
    payment = create(api, provider, order)
    assert (payment["status"], payment["provider"], payment["method"]) == (
        "pending",
        provider,
        order["method"],
    )
    assert payment["provider_reference"]  # the Gate request id
    seen = deliver_sandbox_callbacks(api, provider, sandbox, payment["id"])
    waiting = get(api, payment["id"])
    assert waiting["status"] == "requires_action"
    expected = "bank_transfer_instructions" if provider == "monetix" else "redirect"
    assert waiting["next_action"]["type"] == expected
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/payments/{payment['id']}/transfer", json={}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    deliver_sandbox_callbacks(api, provider, sandbox, payment["id"], start=seen)
    final = get(api, payment["id"])
    assert (final["status"], final["next_action"]) == ("succeeded", None)


def test_payment_page_flow_answers_a_signed_url_the_provider_accepts(
    api: Api, aws: Provisioned, ecommpay_sandbox: PlatformSandbox
) -> None:
    payment = create(api, "ecommpay", WALLET_ORDER, flow="payment_page")
    assert payment["status"] == "requires_action"
    url = payment["next_action"]["url"]
    assert url.startswith(f"{ecommpay_sandbox.base_url}/payment?")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["force_payment_method"] == "nganluong-wallet"
    assert query["language_code"] == "vi"
    assert (query["customer_email"], query["customer_phone"]) == (
        CUSTOMER["email"],
        CUSTOMER["phone"],
    )
    assert httpx.get(url, timeout=10).status_code == 200
    assert httpx.get(url.replace("signature=", "signature=x"), timeout=10).status_code == 401


def test_atm_payment_page_preselects_the_bank(api: Api, aws: Provisioned) -> None:
    payment = create(api, "ecommpay", ATM_ORDER, flow="payment_page")
    query = dict(parse_qsl(urlsplit(payment["next_action"]["url"]).query))
    assert query["force_payment_method"] == "vietnam-atm"
    assert json.loads(query["payment_methods_options"]) == {"vietnam_atm": {"banks_id": [135]}}


def test_monetix_payment_page(api: Api, aws: Provisioned) -> None:
    payment = create(api, "monetix", TRANSFER_ORDER, flow="payment_page")
    query = dict(parse_qsl(urlsplit(payment["next_action"]["url"]).query))
    assert query["force_payment_method"] == "bank-transfer-vietnam"
    assert httpx.get(payment["next_action"]["url"], timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("provider", "overrides", "field", "words"),
    [
        ("ecommpay", {"bank_id": 4242}, "bank_id", "does not support napas_atm sales on channel 1 "
         "(the provider's bank list)"),
        ("ecommpay", {"amount": 1_999}, "amount", "at least 2000"),
        ("ecommpay", {"amount": 19_999, "bank_id": 133}, "amount", "Vietcombank"),
        ("ecommpay", {"customer": {**CUSTOMER, "phone": None}}, "customer.phone", "required"),
        ("ecommpay", {"bank_id": None}, "bank_id", "required"),
        ("ecommpay", {"card": CARD}, "card", "channel 2"),
        ("ecommpay", {"currency": "USD"}, "currency", ""),
        ("ecommpay", {"method": "ewallet"}, "method", ""),
        ("ecommpay", {"method": "nganluong_wallet", "return_url": None}, "return_urls.success", ""),
        ("monetix", {"method": "bank_transfer", "customer": {**CUSTOMER, "last_name": None}},
         "customer.last_name", "required"),
        ("monetix", {"method": "napas_atm"}, "method", ""),
    ],
)  # fmt: skip
def test_bad_input_is_422_naming_the_field_before_any_provider_call(
    api: Api, aws: Provisioned, provider: str, overrides: dict[str, Any], field: str, words: str
) -> None:
    body = {k: v for k, v in {**ATM_ORDER, **overrides}.items() if v is not None}
    if isinstance(body.get("customer"), dict):
        body["customer"] = {k: v for k, v in body["customer"].items() if v is not None}
    error = refused(api, provider, body)
    assert error["field"] == field and words in error["message"], error
    assert items(aws, "payment") == []


def test_malformed_json_is_400(api: Api, aws: Provisioned) -> None:
    response = api.call("POST", "/v1/monetix/payments", b"{", JSON)
    assert response["statusCode"] == 400


@pytest.mark.parametrize("bank_id", [205, 135])  # the Monetix Gate example's bank; not in the table
def test_monetix_bank_ids_are_the_providers_to_judge(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox, bank_id: int
) -> None:
    """Monetix calls its bank table informational and documents no bank-list call: the
    request goes to Monetix with the bank id as given."""
    payment = create(api, "monetix", TRANSFER_ORDER, bank_id=bank_id)
    assert payment["status"] == "pending"
    assert (monetix_sandbox.payment(payment["id"]) or {})["bank_id"] == bank_id


def test_without_a_live_list_an_unknown_bank_is_refused_by_the_provider_with_its_code(
    api: Api,
    aws: Provisioned,
    handlers: Any,
    ecommpay_sandbox: PlatformSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bank-list call fails: the create is passed on, and the platform declines the bank
    by callback with 2801 "Bank ID not found" (ecommpay's Vietnamese ATM guide, the declined
    purchase callback example); the payment fails naming that code."""
    gateway = handlers("ecommpay_create_payment").gateway

    def unavailable(_: Operation) -> LiveList:
        raise ProviderError("ecommpay answered HTTP 503", provider_code="503")

    monkeypatch.setattr(gateway, "live_banks", LiveBanks(unavailable))
    payment = create(api, "ecommpay", ATM_ORDER, bank_id=4242)
    assert payment["status"] == "pending"
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, payment["id"])
    failed = get(api, payment["id"])
    assert failed["status"] == "failed"
    failure = failed["failure"]
    assert failure["provider_code"] == "2801" and "Bank ID not found" in failure["message"], failed


def after_a_gate_fault(api: Api, sandbox: PlatformSandbox, kind: str, status: int) -> Any:
    """The create's error when Monetix's Gate answers it with the fault `kind`."""
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"kind": kind, "count": 1})
    return api.answer(status, "POST", "/v1/monetix/payments", TRANSFER_ORDER)["error"]


def test_gate_refusal_is_502_and_the_payment_failed(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    error = after_a_gate_fault(api, monetix_sandbox, "reject", 502)
    assert error["provider_code"] == "100"
    payment = get(api, error["payment_id"])
    assert (payment["status"], payment["failure"]["provider_code"]) == ("failed", "100")


def test_gate_timeout_is_504_and_the_payment_stays_pending(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    payment = get(api, after_a_gate_fault(api, monetix_sandbox, "timeout", 504)["payment_id"])
    assert (payment["status"], payment["failure"]["code"]) == ("pending", "provider_timeout")


def test_one_gate_5xx_is_retried(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    httpx.post(
        f"{monetix_sandbox.base_url}/_sandbox/faults", json={"kind": "server_error", "count": 1}
    )
    payment = create(api, "monetix", TRANSFER_ORDER)
    assert payment["status"] == "pending"


def channel2_gateway() -> Any:
    """An ecommpay gateway of a channel-2 project (the handlers were loaded for channel 1)."""
    import os

    settings = load_settings(EcommpaySettings).model_copy(update={"ecommpay_atm_channel": 2})
    assert os.environ["ECOMMPAY_ATM_CHANNEL"] == "1"
    return wiring.ecommpay(settings)


def test_clarification_round_trip(
    api: Api, aws: Provisioned, ecommpay_sandbox: PlatformSandbox, sandbox_settings: Any
) -> None:
    sandbox_settings(ecommpay_sandbox, atm_channel=2)
    from paygate.api_requests import EcommpayPaymentRequest

    request = EcommpayPaymentRequest.model_validate({**ATM_ORDER, "bank_id": 135})
    payment = channel2_gateway().create_payment(request)
    seen = deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, payment.id)
    waiting = get(api, payment.id)
    assert waiting["status"] == "requires_action"
    assert waiting["next_action"]["type"] == "clarification"
    fields = waiting["next_action"]["fields"]
    assert set(fields) == {"card.pan", "card.card_holder", "card.year", "card.month"}
    path = f"/v1/payments/{payment.id}/clarification"
    missing = api.call("POST", path, {"fields": {"card.pan": CARD["pan"]}}, JSON)
    assert missing["statusCode"] == 422
    assert body_of(missing)["error"]["field"].startswith("fields.card.")
    unasked = {f"card.{k}": v for k, v in CARD.items()} | {"customer.phone": "1"}
    assert api.call("POST", path, {"fields": unasked}, JSON)["statusCode"] == 422
    answer = api.call("POST", path, {"fields": {f"card.{k}": v for k, v in CARD.items()}}, JSON)
    assert answer["statusCode"] == 200, answer
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, payment.id, start=seen)
    moved = get(api, payment.id)
    assert (moved["status"], moved["next_action"]["type"]) == ("requires_action", "redirect")
    again = api.call("POST", path, {"fields": {f"card.{k}": v for k, v in CARD.items()}}, JSON)
    assert again["statusCode"] == 409
    everything = searchable(boto3_scan(aws))
    assert CARD["pan"] not in everything


def boto3_scan(aws: Provisioned) -> list[dict[str, Any]]:
    import boto3

    result: list[dict[str, Any]] = boto3.client("dynamodb").scan(
        TableName=aws.refs["PaymentsTable"]
    )["Items"]
    return result


def test_clarification_of_unknown_or_other_payments(api: Api, aws: Provisioned) -> None:
    body = {"fields": {"card.pan": CARD["pan"]}}
    assert api.call("POST", "/v1/payments/pay_nope/clarification", body, JSON)["statusCode"] == 404
    payment = create(api, "monetix", TRANSFER_ORDER)
    path = f"/v1/payments/{payment['id']}/clarification"
    assert api.call("POST", path, body, JSON)["statusCode"] == 409
    assert api.call("POST", path, {"fields": {}}, JSON)["statusCode"] == 422
    assert api.call("POST", path, {"fields": {"Card.PAN": "1"}}, JSON)["statusCode"] == 422


def test_card_on_channel_2_goes_to_the_provider_only(
    api: Api, aws: Provisioned, ecommpay_sandbox: PlatformSandbox, sandbox_settings: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    sandbox_settings(ecommpay_sandbox, atm_channel=2)
    from paygate.api_requests import EcommpayPaymentRequest

    request = EcommpayPaymentRequest.model_validate({**ATM_ORDER, "card": CARD})
    payment = channel2_gateway().create_payment(request)
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, payment.id)
    assert get(api, payment.id)["next_action"]["type"] == "redirect"  # no clarification asked
    assert CARD["pan"] not in searchable(boto3_scan(aws))
    assert CARD["pan"] not in capsys.readouterr().out


def test_status_query_applies_the_platform_view(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    payment = create(api, "monetix", TRANSFER_ORDER)
    gateway = wiring.monetix(load_settings(MonetixSettings))
    waiting = gateway.refresh(payment["id"])  # instructions, as the first callback would say
    assert waiting.status == "requires_action"
    assert (
        waiting.next_action is not None and waiting.next_action.type == "bank_transfer_instructions"
    )
    httpx.post(f"{monetix_sandbox.base_url}/_sandbox/payments/{payment['id']}/transfer", json={})
    assert gateway.refresh(payment["id"]).status == "succeeded"
    assert gateway.refresh(payment["id"]).version == get(api, payment["id"])["version"]


def test_status_query_of_a_payment_the_platform_never_saw(api: Api, aws: Provisioned) -> None:
    from paygate.domain import Payment, Provider

    gateway = wiring.monetix(load_settings(MonetixSettings))
    lost = Payment(
        id="pay_lost", provider=Provider.MONETIX, method=Method.BANK_TRANSFER,
        amount=300_000, merchant_reference="o",
    )  # fmt: skip
    gateway.ledger.repository.create(lost)
    assert gateway.refresh("pay_lost").status == "created"


@pytest.mark.parametrize(
    ("query", "source", "count"),
    [
        ("", "provider", 43),
        ("?method=napas_atm&operation=sale", "provider", 43),
        ("?method=napas_atm&operation=payout", "provider", 31),  # payout rows only
    ],
)
def test_ecommpay_bank_list(
    api: Api, aws: Provisioned, query: str, source: str, count: int
) -> None:
    path, _, qs = f"/v1/ecommpay/banks{query}".partition("?")
    response = api_get(api, path, qs)
    assert response["statusCode"] == 200, response
    answer = body_of(response)
    assert (answer["source"], len(answer["banks"]), answer["channel"]) == (source, count, 1)
    assert (answer["regions"] is not None) == ("payout" in query)


def api_get(api: Api, path: str, query: str) -> dict[str, Any]:
    """GET with a query string (the Api helper sends none)."""
    from local.aws.apigw import FakeLambdaContext, find_route, proxy_event

    route, _ = find_route(api.routes, "GET", path)
    assert route is not None
    event = proxy_event(route, path, method="GET", body=None, headers={"x-api-key": "test-key"})
    params = dict(parse_qsl(query))
    event["queryStringParameters"] = params or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()} or None
    assert api.authorizer_refusal(route, event) is None  # the merchant key's principal
    module = api.handlers(api.modules[route.function_id])
    response: dict[str, Any] = module.lambda_handler(event, FakeLambdaContext("test"))
    return response


def test_bank_list_falls_back_to_the_docs_when_the_provider_fails(aws: Provisioned) -> None:
    unreachable = {"ecommpay_gate_url": "http://127.0.0.1:9", "ecommpay_atm_channel": 2}
    settings = load_settings(EcommpaySettings).model_copy(update=unreachable)
    answer = wiring.ecommpay(settings).bank_list(Method.NAPAS_ATM, Operation.SALE)
    assert (answer.source, len(answer.banks), answer.channel) == ("docs", 41, 2)


def test_monetix_bank_list_and_bad_queries(api: Api, aws: Provisioned) -> None:
    answer = body_of(api_get(api, "/v1/monetix/banks", ""))
    assert (answer["source"], len(answer["banks"])) == ("docs", 12)
    for path, query, field in [
        ("/v1/ecommpay/banks", "method=ewallet", "method"),
        ("/v1/ecommpay/banks", "operation=refund", "operation"),
        ("/v1/monetix/banks", "operation=payout", "operation"),
    ]:
        response = api_get(api, path, query)
        assert response["statusCode"] == 422, response
        assert body_of(response)["error"]["field"] == field
