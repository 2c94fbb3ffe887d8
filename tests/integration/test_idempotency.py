"""Idempotent creates: `Idempotency-Key` required, the first response answered again (marked),
another body refused, a concurrent duplicate told to retry, keys scoped per API key, provider
failures kept (so a retry never starts a second payment at the provider)."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import httpx
import pytest
from botocore.client import BaseClient

from local.aws.provision import Provisioned
from local.sandboxes.paypro import PayproSandbox

from .conftest import Api, body_of, header

ORDER = {"amount": 50000, "currency": "VND", "merchant_reference": "order-idem"}
PATH = "/v1/paypro/payments"


def create(
    api: Api, key: str | None, body: dict[str, Any] = ORDER, **headers: str
) -> dict[str, Any]:
    sent = {"content-type": "application/json", **headers}
    if key is not None:
        sent["Idempotency-Key"] = key
    return api.call("POST", PATH, body, sent)


def payments(aws: Provisioned) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"]
    return [i for i in items if i["entity"]["S"] == "payment"]


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_the_header_is_required_and_bounded(api: Api, aws: Provisioned, key: str) -> None:
    headers = {"Idempotency-Key": key} if key else {}
    response = api.call("POST", PATH, ORDER, headers, auto_idempotency_key=False)
    assert response["statusCode"] == 422, response
    assert body_of(response)["error"]["field"].lower() == "idempotency-key"
    assert payments(aws) == []


def test_a_repeat_answers_the_first_response(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    first = create(api, "key-1")
    assert first["statusCode"] == 201
    assert header(first, "Idempotent-Replayed") is None
    again = create(api, "key-1")
    assert again["statusCode"] == 200
    assert header(again, "Idempotent-Replayed") == "true"
    assert body_of(again) == body_of(first)
    assert len(payments(aws)) == 1
    order = httpx.get(f"{paypro_sandbox.base_url}/_sandbox/orders/{body_of(first)['id']}").json()
    assert order["tradeNo"] == body_of(first)["id"]  # one payin at Paypro, for that payment


def test_the_same_key_with_another_body_is_422(api: Api, aws: Provisioned) -> None:
    assert create(api, "key-2")["statusCode"] == 201
    other = create(api, "key-2", {**ORDER, "amount": 60000})
    assert other["statusCode"] == 422
    assert body_of(other)["error"]["code"] == "idempotency_key_reused"
    assert len(payments(aws)) == 1


def test_keys_belong_to_one_api_key(api: Api, aws: Provisioned) -> None:
    assert create(api, "key-3", **{"x-api-key": "merchant-a"})["statusCode"] == 201
    assert create(api, "key-3", **{"x-api-key": "merchant-b"})["statusCode"] == 201
    assert len(payments(aws)) == 2


def test_a_refused_body_keeps_no_record(api: Api, aws: Provisioned) -> None:
    assert create(api, "key-4", {**ORDER, "amount": 10})["statusCode"] == 422  # under the limit
    assert create(api, "key-4")["statusCode"] == 201


def test_a_provider_timeout_is_kept_so_a_retry_starts_nothing_new(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    httpx.post(f"{paypro_sandbox.base_url}/_sandbox/faults", json={"payin": "timeout", "count": 1})
    first = create(api, "key-5")
    assert first["statusCode"] == 504
    retry = create(api, "key-5")
    assert (retry["statusCode"], header(retry, "Idempotent-Replayed")) == (504, "true")
    assert body_of(retry)["error"]["payment_id"] == body_of(first)["error"]["payment_id"]
    assert len(payments(aws)) == 1


def test_a_concurrent_duplicate_is_409(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpx.post(f"{paypro_sandbox.base_url}/_sandbox/faults", json={"payin": "timeout", "count": 1})
    at_paypro = threading.Event()  # set when the first create has reached Paypro
    take = paypro_sandbox.faults.take

    def taken(kind: str | None = None) -> str | None:
        fault = take(kind)
        at_paypro.set()
        return fault

    monkeypatch.setattr(paypro_sandbox.faults, "take", taken)
    results: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: results.update(first=create(api, "key-6")))
    worker.start()
    assert at_paypro.wait(10), "the first create never reached Paypro"
    second = create(api, "key-6")  # the first waits for Paypro (a 0.5 s read timeout here)
    worker.join()
    assert second["statusCode"] == 409, second
    assert body_of(second)["error"]["code"] == "idempotency_in_progress"
    assert results["first"]["statusCode"] == 504
    assert len(payments(aws)) == 1
    assert json.loads(create(api, "key-6")["body"]) == json.loads(results["first"]["body"])


def test_a_create_costs_four_dynamodb_calls_and_a_replay_writes_no_payment(
    api: Api, aws: Provisioned, handlers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-progress idempotency record and the payment go in one transaction; then the
    provider's answer; then the same order's other payments (the answer's `warnings`: one
    Query); then the completed record. A replay is refused on the idempotency item
    alone, so the transaction writes nothing (no second payment). Every DynamoDB call the
    process makes is counted (the repository's and the idempotency store's clients alike),
    the key authorizer's read of the merchant key first (API Gateway caches that answer for
    five minutes per key, so most creates do without it)."""
    handlers("paypro_create_payment")  # loaded (its clients made) before counting
    calls: list[str] = []
    make_api_call = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    first = create(api, "key-calls")
    assert first["statusCode"] == 201
    assert calls == ["GetItem", "TransactWriteItems", "PutItem", "Query", "UpdateItem"]
    calls.clear()
    again = create(api, "key-calls")
    assert again["statusCode"] == 200 and header(again, "Idempotent-Replayed") == "true"
    assert calls == ["GetItem", "TransactWriteItems"]  # refused on the key: the record replays
    monkeypatch.undo()
    assert [p["id"]["S"] for p in payments(aws)] == [body_of(first)["id"]]
