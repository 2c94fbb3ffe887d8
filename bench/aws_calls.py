"""AWS calls per operation on a full flow (moto + the Paypro sandbox), counted with a botocore
event hook registered for every session: create, each webhook kind, publish batches."""

from __future__ import annotations

import importlib
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import botocore.handlers

CALLS: Counter[str] = Counter()


def _count(model: Any, **_: Any) -> None:
    CALLS[f"{model.service_model.service_name}:{model.name}"] += 1


# Every botocore session created from now on (boto3's, Powertools') gets the counter.
botocore.handlers.BUILTIN_HANDLERS.append(("before-call", _count))


@contextmanager
def counting() -> Iterator[Counter[str]]:
    CALLS.clear()
    seen: Counter[str] = Counter()
    yield seen
    seen.update(CALLS)


class Flow:
    """The real handlers against moto resources built from template.yaml."""

    def __init__(self, sandbox_url: str) -> None:
        from local.aws.provision import load_dev_secrets, provision
        from local.aws.template import load_template

        template = load_template()
        self.secrets = load_dev_secrets()
        self.made = provision(template, self.secrets)
        for function in template.functions():
            os.environ.update(self.made.environment(function))
        os.environ.update(PAYPRO_BASE_URL=sandbox_url, WEBHOOK_BASE_URL="http://127.0.0.1:9")
        self.routes = template.routes()
        self.modules = {f.logical_id: f.module for f in template.functions()}

    def module(self, logical_id: str) -> ModuleType:
        return importlib.import_module(self.modules[logical_id])

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        from local.aws.apigw import FakeLambdaContext, find_route, proxy_event

        route, _ = find_route(self.routes, method, path)
        assert route is not None
        raw = json.dumps(body).encode() if body is not None else None
        headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
        event = proxy_event(route, path, method=method, body=raw, headers=headers)
        if route.authorizer == "MerchantKeyAuthorizer":  # its answer, as API Gateway caches it
            from local.aws.merchant_keys import merchant_principal

            event["requestContext"]["authorizer"] = merchant_principal()
        handler = self.module(route.function_id).lambda_handler
        return handler(event, FakeLambdaContext(route.function_id))

    def notify(self, payment: dict[str, Any], status: str, amount: int | None = None) -> Any:
        from paygate.providers.paypro import signing

        fields = {
            "status": status,
            "message": "bench",
            "platFormTradeNo": payment["provider_reference"],
            "tradeNo": payment["id"],
            "amount": str(amount or payment["amount"]),
            "timestamp": str(int(time.time() * 1000)),  # sent now: its age is checked
        }
        fields["sign"] = signing.sign(fields, self.secrets["PayproSecret"]["app_secret"])
        return self.call("POST", "/webhooks/paypro", fields)

    def create(self) -> dict[str, Any]:
        body = {"amount": 50000, "currency": "VND", "merchant_reference": "bench"}
        response = self.call("POST", "/v1/paypro/payments", body)
        assert response["statusCode"] == 201, response
        payment: dict[str, Any] = json.loads(response["body"])
        return payment


# Well-formed (`paygate.domain.PAYMENT_ID_PATTERN`) but never created: a malformed id is refused
# before any storage call, which is not the case measured here.
UNKNOWN_PAYMENT_ID = "pay_20261207000000deadbeef00"


def _stream_records(flow: Flow) -> list[dict[str, Any]]:
    import boto3

    from local.aws.streams import lambda_record

    arn = flow.made.attributes[("PaymentsTable", "StreamArn")]
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        raw = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        records += [lambda_record(r, arn) for r in raw]
    entity = "entity"
    return [r for r in records if r["dynamodb"]["NewImage"][entity]["S"] == "payment"]


def _by_service(calls: Counter[str], service: str) -> dict[str, int]:
    return {k.split(":")[1]: v for k, v in sorted(calls.items()) if k.startswith(service + ":")}


def measure() -> dict[str, Any]:
    from moto import mock_aws

    from local.aws.apigw import FakeLambdaContext
    from local.aws.provision import load_dev_secrets
    from local.sandboxes.paypro import PayproSandbox, SandboxConfig

    secret = load_dev_secrets()["PayproSecret"]["app_secret"]
    sandbox = PayproSandbox(SandboxConfig(app_secret=secret, notify_retry_delays=()))
    sandbox.start()
    operations: dict[str, Any] = {}
    try:
        with mock_aws():
            flow = Flow(sandbox.base_url)
            flow.create()  # warms the secret cache, as a warm container would have
            with counting() as calls:
                payment = flow.create()
            operations["create payment"] = dict(calls)
            kinds: list[tuple[str, dict[str, Any], str, int | None]] = [
                ("webhook success (first delivery)", payment, "0000", None),
                ("webhook duplicate", payment, "0000", None),
                ("webhook late intermediate (stale)", payment, "0015", None),
            ]
            declined, mismatched = flow.create(), flow.create()
            kinds += [
                ("webhook decline", declined, "00029", None),
                ("webhook paid another amount (needs_review)", mismatched, "0000", 40000),
                ("webhook unknown payment", {**payment, "id": UNKNOWN_PAYMENT_ID}, "0000", None),
            ]
            for name, target, status, amount in kinds:
                with counting() as calls:
                    response = flow.notify(target, status, amount)
                assert response["statusCode"] == 200, response
                operations[name] = dict(calls)
            with counting() as calls:
                flow.call("GET", f"/v1/payments/{payment['id']}")
            operations["get payment"] = dict(calls)
            publish = flow.module("PublishStatusFunction")
            context = FakeLambdaContext("PublishStatusFunction")
            for _ in range(12):  # enough status changes for the largest batch
                flow.create()
            records = _stream_records(flow)
            batches = {}
            for size in (1, 10, 25):
                assert len(records) >= size
                with counting() as calls:
                    publish.lambda_handler({"Records": records[:size]}, context)
                batches[str(size)] = {"sns_calls": _by_service(calls, "sns"), "changes": size}
    finally:
        sandbox.stop()
    return {"operations": operations, "publish_batches": batches}
