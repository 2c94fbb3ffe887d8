"""The canonical events in events/ (the ones `sam local invoke -e` uses) replayed as they are
through the handlers."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType

from local.aws.apigw import FakeLambdaContext
from local.aws.provision import Provisioned
from tests.conftest import load_event

from .conftest import body_of, signed
from .test_publish_status import received, subscribe


def test_create_payment_event(handlers: Callable[[str], ModuleType], aws: Provisioned) -> None:
    event = load_event("api/paypro-create-payment.json")
    response = handlers("paypro_create_payment").lambda_handler(event, FakeLambdaContext("c"))
    assert response["statusCode"] == 201
    assert body_of(response)["merchant_reference"] == "order-1001"


def test_get_payment_event(handlers: Callable[[str], ModuleType], aws: Provisioned) -> None:
    response = handlers("get_payment").lambda_handler(
        load_event("api/get-payment.json"), FakeLambdaContext("g")
    )
    assert response["statusCode"] == 404
    assert body_of(response)["error"]["code"] == "not_found"


def test_notify_event_signed_with_the_dev_secret(
    handlers: Callable[[str], ModuleType], aws: Provisioned
) -> None:
    event = load_event("api/paypro-notify.json")
    module = handlers("paypro_webhook")
    assert module.lambda_handler(event, FakeLambdaContext("w"))["statusCode"] == 401
    event["body"] = json.dumps(signed(json.loads(event["body"])))
    response = module.lambda_handler(event, FakeLambdaContext("w"))
    assert (response["statusCode"], response["body"]) == (200, "OK")


def test_stream_event_publishes_both_changes(
    handlers: Callable[[str], ModuleType], aws: Provisioned
) -> None:
    queue = subscribe(aws)
    result = handlers("publish_status").lambda_handler(
        load_event("stream/status-changed.json"), FakeLambdaContext("p")
    )
    assert result == {"batchItemFailures": []}
    statuses = [json.loads(m["Body"])["status"] for m in received(queue)]
    assert statuses == ["created", "requires_action"]
