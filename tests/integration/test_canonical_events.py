"""The canonical events in events/ (the ones `sam local invoke -e` uses) replayed as they are
through the handlers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType

from local.aws.apigw import FakeLambdaContext
from local.aws.provision import Provisioned
from paygate import clock as gateway_clock
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
    """Signed by the dev secret, it is answered `OK` at the time it was signed (its payment is
    unknown: stored, changes nothing); two days later it is too old to be applied."""
    event = load_event("api/paypro-notify.json")
    module = handlers("paypro_webhook")
    assert module.lambda_handler(event, FakeLambdaContext("w"))["statusCode"] == 401
    body = signed(json.loads(event["body"]))
    event["body"] = json.dumps(body)
    signed_at = datetime.fromtimestamp(int(body["timestamp"]) / 1000, UTC)
    try:
        gateway_clock.use(lambda: signed_at + timedelta(seconds=1))
        response = module.lambda_handler(event, FakeLambdaContext("w"))
        assert (response["statusCode"], response["body"]) == (200, "OK")
        gateway_clock.use(lambda: signed_at + timedelta(hours=48, seconds=1))
        response = module.lambda_handler(event, FakeLambdaContext("w"))
        assert (response["statusCode"], body_of(response)["error"]["field"]) == (400, "timestamp")
    finally:
        gateway_clock.use(None)


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
