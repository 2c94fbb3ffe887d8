"""Child process of bench/write_cost.py, run inside one tree (this one, or a checkout of an
older commit): `python bench/write_cost_child.py <tree> <out.json>`.

With that tree's code, template and local sandboxes only (nothing of `bench` is imported, so
the same script runs against a tree that has none of it): creates a Paypro VietQR payin and a
Monetix bank-transfer payment through the real create handlers (moto, the local sandboxes),
then delivers a status-changing notification to each provider's real webhook handler. Writes
the AWS calls of each delivery, the TransactWriteItems request, the payment item before and
after, the stored webhook item (DynamoDB JSON), every item write of the create and of the
delivery with the item before and after (recorded by this checkout's
local/aws/item_writes.py, loaded by path, so a tree without it is measured the same way) and
the tree's GSI key schemas as JSON; the parent computes sizes and write units."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

TREE = Path(sys.argv[1]).resolve()
OUT = Path(sys.argv[2])
sys.path[0:1] = [str(TREE), str(TREE / "layers" / "core")]  # not this script's folder
os.chdir(TREE)
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_REGION": "ap-southeast-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Paygate",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import botocore.handlers  # noqa: E402 (after the tree is on the path)

RECORDER = Path(__file__).resolve().parents[1] / "local" / "aws" / "item_writes.py"

CALLS: Counter[str] = Counter()
REQUESTS: list[dict[str, Any]] = []


def _count(model: Any, **_: Any) -> None:
    CALLS[f"{model.service_model.service_name}:{model.name}"] += 1


def _keep(params: Any, model: Any, **_: Any) -> None:
    if model.name == "TransactWriteItems":
        REQUESTS.append(params)


botocore.handlers.BUILTIN_HANDLERS.append(("before-call", _count))
botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build.dynamodb", _keep))


def main() -> None:
    import importlib
    import importlib.util

    import boto3
    from moto import mock_aws

    from local.aws.apigw import FakeLambdaContext, find_route, proxy_event

    try:
        from local.aws.merchant_keys import merchant_principal
    except ImportError:  # a tree from before the key authorizer
        merchant_principal = None  # type: ignore[assignment]
    from local.aws.provision import load_dev_secrets, provision
    from local.aws.template import load_template
    from local.sandboxes.paypro import PayproSandbox, SandboxConfig
    from local.sandboxes.platform import PlatformSandbox, PlatformSandboxConfig

    secrets = load_dev_secrets()
    template = load_template()
    paypro = PayproSandbox(
        SandboxConfig(
            merchant_no=secrets["PayproSecret"]["merchant_no"],
            app_secret=secrets["PayproSecret"]["app_secret"],
            notify_retry_delays=(),
        )
    )
    monetix_secret = secrets["MonetixSecret"]
    monetix = PlatformSandbox(
        PlatformSandboxConfig(
            provider="monetix",
            project_id=int(monetix_secret["project_id"]),
            secret_key=monetix_secret["secret_key"],
            callback_retry_delays=(),
        )
    )
    paypro.start()
    monetix.start()
    routes = template.routes()
    modules = {f.logical_id: f.module for f in template.functions()}

    def call(method: str, path: str, body: dict[str, Any]) -> Any:
        route, _ = find_route(routes, method, path)
        assert route is not None, path
        headers = {"content-type": "application/json"}
        if path.startswith("/v1/"):
            headers["Idempotency-Key"] = uuid.uuid4().hex
        event = proxy_event(
            route, path, method=method, body=json.dumps(body).encode(), headers=headers,
            api_key="bench-key",
        )  # fmt: skip
        authorizer = getattr(route, "authorizer", None)  # None in a tree from before it
        if authorizer == "MerchantKeyAuthorizer" and merchant_principal is not None:
            event["requestContext"]["authorizer"] = merchant_principal()
        handler = importlib.import_module(modules[route.function_id]).lambda_handler
        return handler(event, FakeLambdaContext(route.function_id))

    spec = importlib.util.spec_from_file_location("paygate_bench_item_writes", RECORDER)
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    writes_file = OUT.with_name("item-writes.jsonl")
    writes_file.write_text("", encoding="utf-8")

    def item_writes() -> list[dict[str, Any]]:
        """The item writes recorded since the last call."""
        lines = writes_file.read_text(encoding="utf-8").splitlines()
        writes_file.write_text("", encoding="utf-8")
        return [json.loads(line) for line in lines if line.strip()]

    try:
        with mock_aws():
            made = provision(template, secrets)
            recorder.install(writes_file)
            for function in template.functions():
                os.environ.update(made.environment(function))
            os.environ.update(
                PAYPRO_BASE_URL=paypro.base_url,
                MONETIX_GATE_URL=monetix.base_url,
                MONETIX_PAYMENT_PAGE_URL=f"{monetix.base_url}/payment",
                WEBHOOK_BASE_URL="http://127.0.0.1:9",
            )
            table = made.refs["PaymentsTable"]
            dynamodb = boto3.client("dynamodb")

            def item(key: dict[str, Any]) -> Any:
                return dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

            def deliver(
                name: str, created: Any, path: str, body: Callable[[dict[str, Any]], Any]
            ) -> Any:
                assert created["statusCode"] == 201, created
                payment = json.loads(created["body"])
                key = {"pk": {"S": f"PAYMENT#{payment['id']}"}, "sk": {"S": "PAYMENT"}}
                before = item(key)
                create_writes = item_writes()
                CALLS.clear()
                REQUESTS.clear()
                answer = call("POST", path, body(payment))
                calls = dict(CALLS)
                assert answer["statusCode"] == 200, answer
                assert len(REQUESTS) == 1, (name, calls)
                puts = [i["Put"] for i in REQUESTS[0]["TransactItems"] if "Put" in i]
                webhook_key = {k: puts[-1]["Item"][k] for k in ("pk", "sk")}
                return {
                    "calls": calls,
                    "transact_items": [sorted(i) for i in REQUESTS[0]["TransactItems"]],
                    "payment_before": before,
                    "payment_after": item(key),
                    "webhook": item(webhook_key),
                    "status": (before["status"]["S"], item(key)["status"]["S"]),
                    "create_writes": create_writes,
                    "webhook_writes": item_writes(),
                }

            cases = {}
            vietqr = {"amount": 50000, "currency": "VND", "merchant_reference": "order-1001"}
            created = call("POST", "/v1/paypro/payments", {**vietqr, "method": "vietqr"})

            def notify(payment: dict[str, Any]) -> dict[str, Any]:
                from paygate.providers.paypro import signing

                fields = {"status": "0000", "message": "Success",
                          "platFormTradeNo": payment["provider_reference"],
                          "tradeNo": payment["id"], "amount": str(payment["amount"]),
                          "timestamp": str(int(time.time() * 1000))}  # fmt: skip
                fields["sign"] = signing.sign(fields, secrets["PayproSecret"]["app_secret"])
                return fields

            cases["Paypro notify (VietQR payin, success)"] = deliver(
                "paypro", created, "/webhooks/paypro", notify
            )
            customer = {"id": "cust-7", "email": "buyer@example.com", "phone": "84438336996",
                        "ip_address": "198.51.100.47", "first_name": "An",
                        "last_name": "Nguyen"}  # fmt: skip
            order = {"method": "bank_transfer", "amount": 300_000,
                     "merchant_reference": "order-1002", "customer": customer}  # fmt: skip
            created = call("POST", "/v1/monetix/payments", order)

            def callback(payment: dict[str, Any]) -> dict[str, Any]:
                from paygate.providers.platform import signing

                example = TREE / "events/monetix/bank-transfer-gate-ch1-purchase-success.json"
                document = json.loads(example.read_text(encoding="utf-8"))
                document.pop("signature", None)
                document["payment"]["id"] = payment["id"]
                now = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime())
                document["payment"]["date"] = document["operation"]["date"] = now  # fresh
                signature = signing.sign(document, monetix_secret["secret_key"])
                return {**document, "signature": signature}

            cases["Monetix callback (bank transfer, success)"] = deliver(
                "monetix", created, "/webhooks/monetix", callback
            )
    finally:
        paypro.stop()
        monetix.stop()
    properties = template.document["Resources"]["PaymentsTable"]["Properties"]
    declared = properties.get("GlobalSecondaryIndexes", [])
    if hasattr(template, "resolved"):  # a template with conditional indexes: as deployed
        declared = template.resolved(declared)
    indexes = {
        index["IndexName"]: [key["AttributeName"] for key in index["KeySchema"]]
        for index in declared
    }
    projections = {
        index["IndexName"]: {
            "type": index["Projection"]["ProjectionType"],
            "attributes": index["Projection"].get("NonKeyAttributes", []),
        }
        for index in declared
    }
    document = {"indexes": indexes, "projections": projections, "cases": cases}
    # Binary values as DynamoDB JSON writes them: Base64 text (`write_cost.value_size`).
    as_text = json.dumps(document, indent=1, default=_base64)
    OUT.write_text(as_text, encoding="utf-8")


def _base64(value: object) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


if __name__ == "__main__":
    main()
