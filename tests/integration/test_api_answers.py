"""What the merchant API's own answers look like to a person: a body that is not JSON is a
415 saying to send JSON (never parsed as a form into a misleading 422), and JSON answers are
UTF-8 with Vietnamese unescaped and the charset named."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from local.aws.provision import Provisioned

from .conftest import Api, body_of, header
from .platform_support import JSON, TRANSFER_ORDER

ORDER = {"amount": 50_000, "currency": "VND", "merchant_reference": "order-1001"}
SEND_JSON = "send the body as JSON with the header 'Content-Type: application/json'"


def items_count(aws: Provisioned) -> int:
    return len(boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"])


def refusal(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["statusCode"] == 415, answer
    error: dict[str, Any] = body_of(answer)["error"]
    assert (error["code"], error["field"]) == ("unsupported_media_type", "Content-Type")
    assert error["message"].startswith(SEND_JSON), error["message"]
    return error


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        # `curl -d '{...}'`: JSON text sent as a form (curl's default content type)
        ("application/x-www-form-urlencoded", json.dumps(ORDER).encode()),
        # a real form with every field right
        ("application/x-www-form-urlencoded", b"amount=50000&currency=VND&merchant_reference=o"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\nx\r\n--x--\r\n"),
        ("text/plain", json.dumps(ORDER).encode()),
    ],
    ids=["curl-d-json", "form", "multipart", "text"],
)
def test_a_body_that_is_not_json_is_415_and_records_nothing(
    api: Api, aws: Provisioned, content_type: str, raw: bytes
) -> None:
    answer = api.call("POST", "/v1/paypro/payments", raw, {"content-type": content_type})
    media_type = content_type.split(";")[0]
    assert refusal(answer)["message"].endswith(f"(this body came as {media_type})")
    assert items_count(aws) == 0


def test_a_form_review_is_415_too(api: Api, aws: Provisioned) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    refusal(api.call("POST", "/v1/payments/pay_x/review", b"decision=accept", form))


def test_json_with_its_charset_or_without_a_content_type_is_read(
    api: Api, aws: Provisioned
) -> None:
    with_charset = {"content-type": "Application/JSON; charset=utf-8"}
    assert (
        api.call("POST", "/v1/monetix/payments", TRANSFER_ORDER, with_charset)["statusCode"] == 201
    )
    untyped = {**TRANSFER_ORDER, "merchant_reference": "order-bt-2"}
    assert api.call("POST", "/v1/monetix/payments", untyped, {})["statusCode"] == 201


def test_answers_are_utf8_unescaped_and_say_so(api: Api, aws: Provisioned) -> None:
    reference = "đơn-hàng-1001"
    headers = {**JSON, "Idempotency-Key": "utf8-answer"}
    order = {**TRANSFER_ORDER, "merchant_reference": reference}
    first = api.call("POST", "/v1/monetix/payments", order, headers)
    assert first["statusCode"] == 201, first
    assert f'"merchant_reference":"{reference}"' in first["body"]
    assert "\\u" not in first["body"]
    assert header(first, "Content-Type") == "application/json; charset=utf-8"
    again = api.call("POST", "/v1/monetix/payments", order, headers)
    assert (again["statusCode"], again["body"]) == (200, first["body"])  # kept byte for byte
    read = api.call("GET", f"/v1/payments/{body_of(first)['id']}")
    assert f'"merchant_reference":"{reference}"' in read["body"]
    assert header(read, "Content-Type") == "application/json; charset=utf-8"
    missing = api.call("GET", "/v1/payments/pay_unknown")
    assert header(missing, "Content-Type") == "application/json; charset=utf-8"
