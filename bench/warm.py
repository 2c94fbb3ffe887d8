"""Warm handler overhead: thousands of in-process invocations of each webhook handler with
AWS answered instantly (an in-memory client in place of boto3's), against a baseline handler
that only parses the JSON body."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from bench.common import summary

CALLS = 5000
WARMUP = 200


class InstantDynamoDB:
    """Answers the webhook's DynamoDB calls at once: every delivery applies."""

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        return {}


class InstantSecrets:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def get_secret_value(self, **_: Any) -> dict[str, Any]:
        return {"SecretString": json.dumps(self.document), "Name": "bench"}


def baseline_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    json.loads(event["body"])
    return {"statusCode": 200, "body": "OK"}


def _time(
    handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], context: Any
) -> list[float]:
    for _ in range(WARMUP):
        handler(event, context)
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter_ns()
        handler(event, context)
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def measure() -> dict[str, Any]:
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    from local.apigw import FakeLambdaContext, find_route, proxy_event
    from local.provision import load_dev_secrets
    from local.template import load_template
    from paygate.providers.paypro import signing

    secrets = load_dev_secrets()
    os.environ.update(PAYMENTS_TABLE="bench", PAYPRO_SECRET_ID="bench")
    DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(
        boto3_client=InstantSecrets(secrets["PayproSecret"])
    )
    template = load_template()
    module = importlib.import_module(
        next(f.module for f in template.functions() if f.logical_id == "PayproWebhookFunction")
    )
    module.gateway.ledger.repository.__dict__["client"] = InstantDynamoDB()
    fields = {"status": "0000", "tradeNo": "pay_bench", "amount": "50000", "timestamp": "1"}
    fields["sign"] = signing.sign(fields, secrets["PayproSecret"]["app_secret"])
    route, _ = find_route(template.routes(), "POST", "/webhooks/paypro")
    assert route is not None
    event = proxy_event(route, "/webhooks/paypro", body=json.dumps(fields).encode())
    context = FakeLambdaContext("PayproWebhookFunction")
    assert module.lambda_handler(event, context)["body"] == "OK"
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for log_handler in logging.getLogger("paygate").handlers:  # JSON logs cost what they cost,
            if isinstance(log_handler, logging.StreamHandler):  # but not a terminal's speed
                log_handler.setStream(sink)
        ours = _time(module.lambda_handler, event, context)
        base = _time(baseline_handler, event, context)
    ours_summary, base_summary = summary(ours), summary(base)
    return {
        "calls": CALLS,
        "handlers": {
            "PayproWebhookFunction": {
                "p50_us": round(ours_summary["p50"], 1),
                "p99_us": round(ours_summary["p99"], 1),
                "baseline_p50_us": round(base_summary["p50"], 1),
                "baseline_p99_us": round(base_summary["p99"], 1),
                "ratio_p50": round(ours_summary["p50"] / base_summary["p50"], 1),
                "ratio_p99": round(ours_summary["p99"] / base_summary["p99"], 1),
            }
        },
    }
