"""POST /webhooks/smartglocal: the docs' examples replayed (signed with the test key) and the
sandbox's own webhooks delivered through the real handler and moto."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from local.aws.apigw import FakeLambdaContext
from local.aws.provision import Provisioned
from local.sandboxes.smartglocal import SmartglocalSandbox
from paygate.providers.smartglocal import signing
from tests.conftest import load_event, metric_names

from .conftest import SMARTGLOCAL_TEST_KEY, Api, body_of
from .smartglocal_support import (
    create,
    deliver,
    deliver_next,
    get,
    replay_example,
    restamped,
    signed_example,
    webhook_items,
)


@pytest.mark.parametrize(
    ("example", "status"),
    [
        ("start-payment-response.json", "pending"),  # no `type`: stored, changes nothing
        ("webhook-ready-to-confirm.json", "requires_confirmation"),
        ("webhook-action-required.json", "requires_action"),
        ("webhook-payment-finished.json", "succeeded"),
    ],
)
def test_documented_examples_replay_to_their_status(api: Api, example: str, status: str) -> None:
    payment = create(api, confirmation="manual")
    response = replay_example(api, example, payment["provider_reference"])
    assert response["statusCode"] == 200
    assert body_of(response) == {"status": "ok"}
    assert get(api, payment["id"])["status"] == status


def test_action_required_example_carries_the_deeplink(api: Api) -> None:
    payment = create(api, confirmation="manual")
    replay_example(api, "webhook-action-required.json", payment["provider_reference"])
    assert get(api, payment["id"])["next_action"] == {
        "type": "redirect",
        "url": "https://redirect-url-example.com/12345",
        "method": "GET",
        "params": {},
    }


def test_examples_in_order_publish_each_step_once(api: Api, aws: Provisioned) -> None:
    payment = create(api, confirmation="manual")
    reference = payment["provider_reference"]
    for example in (
        "webhook-ready-to-confirm.json",
        "webhook-action-required.json",
        "webhook-payment-finished.json",
        "webhook-payment-finished.json",  # redelivered
        "webhook-action-required.json",  # late
    ):
        assert replay_example(api, example, reference)["statusCode"] == 200
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == ("succeeded", 5)
    assert after["amount_received"] == 100000
    assert len(webhook_items(aws)) == 3


def test_paid_another_amount_needs_review(api: Api) -> None:
    payment = create(api, amount=90000, confirmation="manual")
    replay_example(api, "webhook-payment-finished.json", payment["provider_reference"])
    after = get(api, payment["id"])
    assert after["status"] == "needs_review"
    assert after["amount_received"] == 100000
    assert after["failure"]["code"] == "amount_mismatch"


def test_failed_payment_with_session_error_stays_open(api: Api) -> None:
    payment = create(api, confirmation="manual")
    body = signed_example("webhook-payment-finished.json", payment["provider_reference"])
    body = body.replace(b'"status": "accepted"', b'"status": "error"')
    body = body.replace(b'"status": "succeeded"', b'"status": "failed"')
    assert deliver(api, body, signing.sign(body, SMARTGLOCAL_TEST_KEY))["statusCode"] == 200
    after = get(api, payment["id"])
    assert after["status"] == "processing"
    assert after["failure"]["code"] == "provider_error_not_final"


@pytest.mark.parametrize("sign", [None, "", "bm90IGEgc2lnbmF0dXJl", "other-key"])
def test_bad_or_missing_signature_is_a_401_and_changes_nothing(
    api: Api, aws: Provisioned, sign: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    payment = create(api, confirmation="manual")
    body = signed_example("webhook-payment-finished.json", payment["provider_reference"])
    if sign == "other-key":
        sign = signing.sign(body, signing.generate_private_key_pem())
    capsys.readouterr()
    response = deliver(api, body, sign)
    assert response["statusCode"] == 401
    assert body_of(response)["error"]["code"] == "invalid_signature"
    assert "WebhookSignatureInvalid" in metric_names(capsys.readouterr().out)
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == ("pending", 2)
    assert webhook_items(aws) == []


def test_a_byte_changed_after_signing_is_refused(api: Api) -> None:
    payment = create(api, confirmation="manual")
    body = signed_example("webhook-payment-finished.json", payment["provider_reference"])
    sign = signing.sign(body, SMARTGLOCAL_TEST_KEY)
    assert deliver(api, body.replace(b"100000", b"100001"), sign)["statusCode"] == 401
    assert deliver(api, body + b" ", sign)["statusCode"] == 401
    assert get(api, payment["id"])["status"] == "pending"


def test_malformed_json_is_a_400(api: Api) -> None:
    body = b'{"type": "payment_finished", '
    response = deliver(api, body, signing.sign(body, SMARTGLOCAL_TEST_KEY))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "malformed_request"


def test_signed_but_without_session_is_a_400_naming_it(api: Api) -> None:
    body = b'{"type": "payment_finished"}'
    response = deliver(api, body, signing.sign(body, SMARTGLOCAL_TEST_KEY))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == "session"


def test_unknown_type_is_stored_counted_and_acknowledged(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str]
) -> None:
    payment = create(api, confirmation="manual")
    body = signed_example("webhook-payment-finished.json", payment["provider_reference"])
    body = body.replace(b'"type": "payment_finished"', b'"type": "payment_refunded"')
    capsys.readouterr()
    answers = [deliver(api, body, signing.sign(body, SMARTGLOCAL_TEST_KEY)) for _ in range(2)]
    assert [a["statusCode"] for a in answers] == [200, 200]
    assert "WebhookUnknownType" in metric_names(capsys.readouterr().out)
    (item,) = webhook_items(aws)
    assert item["outcome"]["S"] == "stale" and item["payment_id"]["S"] == payment["id"]
    stored = json.loads(zlib.decompress(item["body"]["B"]))  # the masked body, compressed
    payment_entry = stored["session"]["acquiring_payments"][0]
    assert payment_entry["participant_details"]["sender"]["document"] == "*****"
    assert get(api, payment["id"])["version"] == 2


def test_unknown_session_is_acknowledged_and_stored(api: Api, aws: Provisioned) -> None:
    response = replay_example(api, "webhook-payment-finished.json", "ps_nobody")
    assert response["statusCode"] == 200
    (item,) = webhook_items(aws)
    assert item["outcome"]["S"] == "unknown_payment"


def test_previous_provider_key_verifies_during_rotation(api: Api, aws: Provisioned) -> None:
    new_key = signing.generate_private_key_pem()
    client = boto3.client("secretsmanager")
    secret_id = aws.refs["SmartglocalSecret"]
    value = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
    old_public = value["provider_public_key_pem"]

    def rotate(current: str, previous: str) -> None:
        rotated = {
            **value,
            "provider_public_key_pem": current,
            "provider_public_key_previous_pem": previous,
        }
        client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(rotated))
        parameters.clear_caches()

    first, second, third = (create(api, confirmation="manual") for _ in range(3))
    rotate(signing.public_pem_of(new_key), old_public)
    old = signed_example("webhook-ready-to-confirm.json", first["provider_reference"])
    new = signed_example("webhook-ready-to-confirm.json", second["provider_reference"])
    assert deliver(api, old, signing.sign(old, SMARTGLOCAL_TEST_KEY))["statusCode"] == 200
    assert deliver(api, new, signing.sign(new, new_key))["statusCode"] == 200
    rotate(signing.public_pem_of(new_key), "")
    late = signed_example("webhook-ready-to-confirm.json", third["provider_reference"])
    assert deliver(api, late, signing.sign(late, SMARTGLOCAL_TEST_KEY))["statusCode"] == 401


# -- the sandbox's webhook sequence ------------------------------------------------------------


def session_of(sandbox: SmartglocalSandbox, payment: dict[str, Any]) -> dict[str, Any]:
    state = sandbox.session(payment["provider_reference"])
    assert state is not None
    return state


def test_auto_confirmation_confirms_once_even_when_redelivered(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = create(api)  # confirmation: auto (default)
    reference = payment["provider_reference"]
    for _ in range(3):
        assert (
            deliver_next(api, smartglocal_sandbox, reference, "ready_to_confirm")["statusCode"]
            == 200
        )
    assert session_of(smartglocal_sandbox, payment)["confirm_calls"] == 1
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == ("pending", 2)  # never requires_confirmation
    deliver_next(api, smartglocal_sandbox, reference, "action_required")
    after = get(api, payment["id"])
    assert after["status"] == "requires_action"
    assert after["next_action"]["url"] == f"{smartglocal_sandbox.base_url}/qr/{reference}"


def test_auto_confirm_failure_keeps_the_webhook_and_hands_over_to_the_merchant(
    api: Api, aws: Provisioned, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = create(api)
    reference = payment["provider_reference"]
    smartglocal_sandbox.add_fault("confirm", 1)
    assert (
        deliver_next(api, smartglocal_sandbox, reference, "ready_to_confirm")["statusCode"] == 200
    )
    assert len(webhook_items(aws)) == 1  # stored before the confirm call
    held = get(api, payment["id"])
    assert held["status"] == "requires_confirmation"
    assert held["failure"]["code"] == "auto_confirm_failed"
    assert held["failure"]["provider_code"] == "sandbox_fault"
    confirmed = api.call("POST", f"/v1/payments/{payment['id']}/confirm")
    assert confirmed["statusCode"] == 200
    assert session_of(smartglocal_sandbox, payment)["confirm_calls"] == 2
    deliver_next(api, smartglocal_sandbox, reference, "action_required")
    after = get(api, payment["id"])
    assert after["status"] == "requires_action" and after["failure"] is None


def test_project_auto_confirmation_skips_ready_to_confirm(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    smartglocal_sandbox.set_auto_confirm("local-project", True)
    try:
        payment = create(api)
    finally:
        smartglocal_sandbox.set_auto_confirm("local-project", False)
    state = session_of(smartglocal_sandbox, payment)
    assert [w["type"] for w in state["webhooks"]] == ["action_required"]
    assert state["confirm_calls"] == 0
    deliver_next(api, smartglocal_sandbox, payment["provider_reference"], "action_required")
    assert get(api, payment["id"])["status"] == "requires_action"


@pytest.mark.parametrize(("paid", "status"), [(True, "succeeded"), (False, "failed")])
def test_paying_or_failing_on_the_qr_page_finishes_the_payment(
    api: Api, smartglocal_sandbox: SmartglocalSandbox, paid: bool, status: str
) -> None:
    payment = create(api)
    reference = payment["provider_reference"]
    deliver_next(api, smartglocal_sandbox, reference, "ready_to_confirm")
    deliver_next(api, smartglocal_sandbox, reference, "action_required")
    smartglocal_sandbox.finish(reference, paid=paid)
    deliver_next(api, smartglocal_sandbox, reference, "payment_finished")
    after = get(api, payment["id"])
    assert after["status"] == status
    if not paid:
        assert after["failure"]["provider_code"] == "payment_declined"


def test_canonical_api_events_replay(
    handlers: Callable[[str], ModuleType], aws: Provisioned
) -> None:
    create_event = load_event("api/smartglocal-create-payment.json")
    created = handlers("smartglocal_create_payment").lambda_handler(
        create_event, FakeLambdaContext("c")
    )
    assert created["statusCode"] == 201
    reference = body_of(created)["provider_reference"]
    event = load_event("api/smartglocal-webhook.json")
    module = handlers("smartglocal_webhook")
    assert module.lambda_handler(event, FakeLambdaContext("w"))["statusCode"] == 401
    body = restamped(event["body"].replace('"ps_5666"', f'"{reference}"'))
    event["body"] = body
    event["headers"]["X-PARTNER-SIGN"] = signing.sign(body.encode(), SMARTGLOCAL_TEST_KEY)
    response = module.lambda_handler(event, FakeLambdaContext("w"))
    assert response["statusCode"] == 200
