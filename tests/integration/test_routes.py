"""The route shapes (paygate.routes) keep what the handlers emitted before: status codes,
metric names (EMF on stdout), log lines, the webhook's provider dimension and acknowledgement,
and one correlation id per request."""

from __future__ import annotations

import json
import logging

import pytest

from local.aws.provision import Provisioned

from .conftest import Api, body_of, header
from .platform_support import JSON, TRANSFER_ORDER, create, deliver, doc_example, signed_body


def metrics_of(capsys: pytest.CaptureFixture[str]) -> dict[str, set[str]]:
    """Each metric name written to stdout (EMF) with its `provider` dimension values."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    metrics: dict[str, set[str]] = {}
    for line in lines:
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                metrics.setdefault(metric["Name"], set()).add(str(line.get("provider", "")))
    return metrics


def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.getMessage() == message]


def test_a_create_answers_201_counts_and_logs_the_payment(
    api: Api,
    aws: Provisioned,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    capsys.readouterr()
    payment = create(api, "monetix", TRANSFER_ORDER)
    created = logged(caplog, "payment created")
    assert [(r.payment_id, r.status) for r in created] == [(payment["id"], "pending")]  # type: ignore[attr-defined]
    assert "PaymentsCreated" in metrics_of(capsys)


def test_a_replayed_create_answers_200_without_counting_again(
    api: Api,
    aws: Provisioned,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = {**JSON, "Idempotency-Key": "routes-replay"}
    first = api.call("POST", "/v1/monetix/payments", TRANSFER_ORDER, headers)
    capsys.readouterr()
    again = api.call("POST", "/v1/monetix/payments", TRANSFER_ORDER, headers)
    assert (first["statusCode"], again["statusCode"]) == (201, 200)
    assert header(again, "Idempotent-Replayed") == "true" and again["body"] == first["body"]
    assert "PaymentsCreated" not in metrics_of(capsys)
    assert len(logged(caplog, "payment created")) == 1  # the first create only


def test_a_webhook_answers_the_providers_ack_with_its_outcome_metric(
    api: Api,
    aws: Provisioned,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    payment = create(api, "monetix", TRANSFER_ORDER)
    document = doc_example("monetix/bank-transfer-gate-ch1-purchase-success.json", payment["id"])
    document["payment"]["sum"]["amount"] = TRANSFER_ORDER["amount"]
    capsys.readouterr()
    response = deliver(api, "monetix", signed_body(document, "monetix"))
    assert (response["statusCode"], body_of(response)) == (200, {"status": "ok"})
    ingested = logged(caplog, "monetix callback ingested")
    assert [r.outcome for r in ingested] == ["applied"]  # type: ignore[attr-defined]
    assert metrics_of(capsys)["Webhook_applied"] == {"monetix"}  # the provider dimension


def test_an_action_on_an_unknown_payment_is_404(api: Api, aws: Provisioned) -> None:
    fields = {"fields": {"card.pan": "4242424242424242"}}
    response = api.call("POST", "/v1/payments/pay_unknown/clarification", fields, JSON)
    assert response["statusCode"] == 404, response
    assert body_of(response)["error"]["code"] == "not_found"


def test_a_read_answers_the_payment_and_a_payout_id_on_the_payment_route_is_404(
    api: Api, aws: Provisioned
) -> None:
    payment = create(api, "monetix", TRANSFER_ORDER)
    found = api.call("GET", f"/v1/payments/{payment['id']}")
    assert (found["statusCode"], body_of(found)["id"]) == (200, payment["id"])
    assert api.call("GET", f"/v1/payouts/{payment['id']}")["statusCode"] == 404
