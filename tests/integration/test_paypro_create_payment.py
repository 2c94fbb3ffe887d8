"""POST /v1/paypro/payments through the real handler, moto and the Paypro sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from local.sandboxes.paypro import PayproSandbox
from paygate.repository import PaymentRepository

from .conftest import Api, body_of

ORDER = {"amount": 50000, "currency": "VND", "merchant_reference": "order-1"}
JSON = {"content-type": "application/json"}


def create(api: Api, body: Any = None, **overrides: Any) -> dict[str, Any]:
    document = body if body is not None else {**ORDER, **overrides}
    return api.call("POST", "/v1/paypro/payments", document, JSON)


def stored(aws: Any, payment_id: str) -> Any:
    from datetime import timedelta

    return PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1)).get(payment_id)


def fault(sandbox: PayproSandbox, kind: str, count: int = 1) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"payin": kind, "count": count})


@pytest.fixture(autouse=True)
def _no_faults(paypro_sandbox: PayproSandbox) -> None:
    httpx.delete(f"{paypro_sandbox.base_url}/_sandbox/faults")


def test_creates_a_vietqr_payment_with_a_payment_link(api: Api, aws: Any) -> None:
    response = create(api)
    assert response["statusCode"] == 201
    payment = body_of(response)
    assert payment["status"] == "requires_action"
    assert payment["next_action"]["type"] == "qr"
    assert payment["next_action"]["payment_link"].startswith("http://127.0.0.1:")
    assert payment["provider"] == "paypro" and payment["method"] == "vietqr"
    assert payment["version"] == 2 and payment["provider_reference"]
    assert stored(aws, payment["id"]).status == "requires_action"


def test_trade_number_is_our_payment_id(api: Api, paypro_sandbox: PayproSandbox) -> None:
    payment = body_of(create(api))
    order = httpx.get(f"{paypro_sandbox.base_url}/_sandbox/orders/{payment['id']}").json()
    assert order["tradeNo"] == payment["id"]
    assert order["notifyUrl"].endswith("/webhooks/paypro")


def test_malformed_json_is_a_400(api: Api) -> None:
    response = api.call("POST", "/v1/paypro/payments", b"{not json", JSON)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "malformed_request"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "VND", "merchant_reference": "o"}, "amount"),
        ({**ORDER, "amount": "50000"}, "amount"),
        ({**ORDER, "amount": 50000.5}, "amount"),
        ({**ORDER, "currency": "USD"}, "currency"),
        ({**ORDER, "merchant_reference": ""}, "merchant_reference"),
        ({**ORDER, "method": "napas_atm"}, "method"),
        ({**ORDER, "surprise": 1}, "surprise"),
        ({"amount": 50000, "currency": "VND"}, "merchant_reference"),
    ],
)
def test_invalid_fields_are_a_422_naming_the_field(api: Api, body: Any, field: str) -> None:
    response = create(api, body)
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == field


def test_a_json_array_body_is_a_4xx(api: Api) -> None:
    assert create(api, [1, 2])["statusCode"] in (400, 422)


def test_amount_below_the_minimum_names_the_limit(api: Api) -> None:
    response = create(api, amount=49_999)
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert error["field"] == "amount"
    assert "50000" in error["message"]


def test_an_outer_error_code_is_a_502_and_the_payment_stays_pending(
    api: Api, aws: Any, paypro_sandbox: PayproSandbox
) -> None:
    """The outer code only describes the request: `8000` says nothing about the order, so the
    payment is never failed by it; reconciliation settles it by query."""
    fault(paypro_sandbox, "reject")
    response = create(api)
    assert response["statusCode"] == 502
    error = body_of(response)["error"]
    assert error["provider_code"] == "8000"
    recorded = api.call("GET", f"/v1/payments/{error['payment_id']}")
    payment = body_of(recorded)
    assert payment["status"] == "pending"
    assert payment["failure"]["code"] == "provider_unavailable"
    assert payment["failure"]["provider_code"] == "8000"


def test_provider_timeout_is_a_504_and_the_payment_stays_pending(
    api: Api, aws: Any, paypro_sandbox: PayproSandbox
) -> None:
    fault(paypro_sandbox, "timeout")
    response = create(api)
    assert response["statusCode"] == 504
    error = body_of(response)["error"]
    payment = stored(aws, error["payment_id"])
    assert payment.status == "pending"
    assert payment.failure is not None and payment.failure.code == "provider_timeout"


def test_one_5xx_is_retried_and_the_payment_succeeds(
    api: Api, paypro_sandbox: PayproSandbox
) -> None:
    fault(paypro_sandbox, "server_error", count=1)
    response = create(api)
    assert response["statusCode"] == 201


def test_persistent_5xx_is_a_502_after_bounded_retries(
    api: Api, aws: Any, paypro_sandbox: PayproSandbox
) -> None:
    fault(paypro_sandbox, "server_error", count=5)
    response = create(api)
    assert response["statusCode"] == 502
    payment = stored(aws, body_of(response)["error"]["payment_id"])
    assert payment.status == "pending"  # the provider may have acted: reconcile, don't fail
