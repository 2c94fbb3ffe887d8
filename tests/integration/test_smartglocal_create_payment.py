"""POST /v1/smartglocal/payments through the real handler, moto and the Smart Glocal sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from local.aws.provision import Provisioned
from local.sandboxes.smartglocal import SmartglocalSandbox
from paygate import wiring
from paygate.api_requests import SmartglocalPaymentRequest
from paygate.domain import Confirmation
from paygate.providers.smartglocal.transformers import PAYMENT_ID_KEY
from paygate.settings import SmartglocalSettings, load_settings

from .conftest import Api, body_of
from .smartglocal_support import CUSTOMER, JSON, ORDER, create, get


def post(api: Api, body: Any) -> dict[str, Any]:
    return api.call("POST", "/v1/smartglocal/payments", body, JSON)


def test_creates_a_pending_payment_with_the_session_as_reference(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = create(api)
    assert (payment["provider"], payment["method"], payment["status"]) == (
        "smartglocal",
        "ewallet",
        "pending",
    )
    assert payment["provider_reference"].startswith("ps_")
    assert payment["version"] == 2 and payment["next_action"] is None
    session = smartglocal_sandbox.session(payment["provider_reference"])
    assert session is not None
    wire = session["acquiring_payments"][0]
    assert wire["id"].startswith("pm_")
    assert wire["amount_details"] == {"amount": 100000, "currency": "VND"}
    assert wire["customer"] == {
        "reference": "cust-42",
        "contacts": [{"email": "buyer@example.com"}],
    }
    assert wire["participant_details"] == {
        "sender": {"full_name": "Nguyen Van A", "document": "012345678901"}
    }
    assert wire["payment_options"] == {
        "return_url": "https://merchant.example/back",
        "recurrent": False,
    }
    assert wire["payment_details"]["internet_banking"]["country_ewallet"] == {"country_iso2": "VN"}
    assert session["metadata"][PAYMENT_ID_KEY] == payment["id"]


def test_customer_reference_defaults_to_the_email(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    customer = {key: value for key, value in CUSTOMER.items() if key != "id"}
    payment = create(api, customer=customer)
    session = smartglocal_sandbox.session(payment["provider_reference"])
    assert session is not None
    assert session["acquiring_payments"][0]["customer"]["reference"] == "buyer@example.com"


@pytest.mark.parametrize("missing", ["full_name", "document", "email"])
def test_missing_customer_field_is_a_422_naming_it(api: Api, missing: str) -> None:
    customer = {key: value for key, value in CUSTOMER.items() if key != missing}
    response = post(api, {**ORDER, "customer": customer})
    assert response["statusCode"] == 422
    error = body_of(response)["error"]
    assert (error["code"], error["field"]) == ("validation_error", f"customer.{missing}")


def test_missing_customer_is_a_422(api: Api) -> None:
    response = post(api, {key: value for key, value in ORDER.items() if key != "customer"})
    assert response["statusCode"] == 422
    assert body_of(response)["error"]["field"] == "customer"


@pytest.mark.parametrize(
    ("field", "value"),
    [("confirmation", "later"), ("method", "vietqr"), ("currency", "USD"), ("amount", 0)],
)
def test_invalid_fields_are_422(api: Api, field: str, value: Any) -> None:
    response = post(api, {**ORDER, field: value})
    assert response["statusCode"] == 422
    assert body_of(response)["error"]["field"] == field


def test_malformed_json_is_a_400(api: Api) -> None:
    response = post(api, b'{"amount": 1')
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "malformed_request"


def test_provider_error_is_a_502_with_its_code_and_the_payment_records_it(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    smartglocal_sandbox.add_fault("init/payment", 1)
    response = post(api, ORDER)
    assert response["statusCode"] == 502
    error = body_of(response)["error"]
    assert (error["code"], error["provider_code"]) == ("provider_error", "sandbox_fault")
    recorded = get(api, error["payment_id"])
    assert recorded["status"] == "failed"
    assert recorded["failure"]["provider_code"] == "sandbox_fault"


def test_two_step_flow_creates_then_starts_the_session(
    api: Api,
    aws: Provisioned,
    smartglocal_sandbox: SmartglocalSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMARTGLOCAL_SESSION_FLOW", "create_start")
    gateway = wiring.smartglocal(load_settings(SmartglocalSettings))
    request = SmartglocalPaymentRequest.model_validate({**ORDER, "confirmation": "manual"})
    payment = gateway.create_payment(request)
    assert payment.status == "pending" and payment.confirmation is Confirmation.MANUAL
    session = smartglocal_sandbox.session(str(payment.provider_reference))
    assert session is not None and session["status"] == "in_progress"
    assert session["metadata"][PAYMENT_ID_KEY] == payment.id
    assert [w["type"] for w in session["webhooks"]] == ["ready_to_confirm"]


def test_requests_signed_with_another_key_are_refused_by_the_sandbox(
    api: Api, aws: Provisioned
) -> None:
    import json

    import boto3
    from aws_lambda_powertools.utilities import parameters

    from paygate.providers.smartglocal import signing

    secret_id = aws.refs["SmartglocalSecret"]
    client = boto3.client("secretsmanager")
    value = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
    value["private_key_pem"] = signing.generate_private_key_pem()
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))
    parameters.clear_caches()
    response = post(api, ORDER)
    assert response["statusCode"] == 502
    assert body_of(response)["error"]["provider_code"] == "invalid_signature"
