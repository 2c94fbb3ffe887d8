"""bench/cost.py's arithmetic: units per call, per payment, and dollars per million payments,
on a made-up soak whose answer is worked out by hand here."""

from __future__ import annotations

import pytest

from bench import cost

SOAK = {
    "payments": 10,
    "aws_calls": {
        "PayproCreatePaymentFunction": {
            "dynamodb:TransactWriteItems": 10,
            "dynamodb:UpdateItem": 10,
            "secretsmanager:GetSecretValue": 1,
            "secretsmanager:GetSecretValue (parameters.get_secret)": 10,
        },
        "PayproWebhookFunction": {"dynamodb:TransactWriteItems": 5},
        "GetPaymentFunction": {"dynamodb:GetItem": 10},  # the checkout's part: left out
        "PublishStatusFunction": {"sns:PublishBatch": 4},
        "ReconcileDispatchFunction": {"dynamodb:Query": 20, "sqs:SendMessageBatch": 2},
    },
    "transaction_items": {
        "PayproCreatePaymentFunction": {"dynamodb:TransactWriteItems": 20},
        "PayproWebhookFunction": {"dynamodb:TransactWriteItems": 10},
    },
    "log_bytes": 10_000,
}
GSI = cost.GSI_WRITE_UNITS_PER_ITEM_WRITE


def test_units_of_each_call() -> None:
    assert cost.units_of_call("dynamodb:GetItem", 1) == (1.0, 0.0)
    assert cost.units_of_call("dynamodb:UpdateItem", 1) == (0.0, 1 + GSI)
    assert cost.units_of_call("dynamodb:TransactWriteItems", 3) == (0.0, 3 * (2 + GSI))
    assert cost.units_of_call("sns:PublishBatch", 1) == (0.0, 0.0)


def test_usage_per_payment_from_the_soak() -> None:
    usage = cost.measured_usage(SOAK)
    # writes: 30 transaction items at 2 + GSI, 10 updates at 1 + GSI; reads: 20 queries
    assert usage.write_units == pytest.approx((30 * (2 + GSI) + 10 * (1 + GSI)) / 10)
    assert usage.read_units == pytest.approx(20 / 10)
    assert usage.sns_requests == pytest.approx(0.4)
    assert usage.sqs_requests == pytest.approx(2 * (1 + cost.SQS_POLL_REQUESTS_PER_SEND) / 10)
    assert usage.secret_calls == pytest.approx(0.1)  # the cached reads are not calls
    assert usage.invocations == {
        "create": 1.0,
        "webhook": 0.5,
        "publish": 0.4,
        "reconcile": 0.2,  # a worker per batch the dispatcher sent
    }
    assert usage.rest_requests == pytest.approx(1.5)  # creates and webhooks
    invocations = 1 + 0.5 + 0.4 + 0.2
    assert usage.log_bytes == pytest.approx(1000 + cost.REPORT_LINE_BYTES * invocations)


def test_dollars_per_million_payments() -> None:
    usage = cost.Usage(
        read_units=2,
        write_units=10,
        invocations={"get": 4},
        rest_requests=4,
        ws_messages=6,
        ws_minutes=8,
        log_bytes=1000,
    )
    lines = cost.cost_per_million(usage, gb=0.5)
    assert lines["API Gateway REST requests"] == pytest.approx(4 * 3.50)
    assert lines["API Gateway WebSocket messages + minutes"] == pytest.approx(6 * 1.0 + 8 * 0.25)
    assert lines["Lambda requests"] == pytest.approx(4 * 0.20)
    seconds = 4 * cost.DURATION_MS["get"] / 1000 * 0.5
    assert lines["Lambda GB-seconds"] == pytest.approx(seconds * 0.0000133334 * 1e6)
    assert lines["DynamoDB writes (table + indexes)"] == pytest.approx(10 * 0.625)
    assert lines["DynamoDB reads"] == pytest.approx(2 * 0.125)
    assert lines["CloudWatch Logs"] == pytest.approx(1000 / 1e9 * 0.50 * 1e6)
    assert lines["X-Ray traces"] == pytest.approx((4 + 6) * cost.XRAY_SAMPLED * 5.0)
    assert lines["total"] == pytest.approx(sum(v for k, v in lines.items() if k != "total"))


def test_the_checkout_is_added_before_and_after() -> None:
    result = cost.table(SOAK, gb=0.5)
    assert set(result) == set(cost.CHECKOUT)
    for scenario, sides in result.items():
        gets = cost.CHECKOUT[scenario]["before"]["gets"]
        rest = (
            sides["before"]["API Gateway REST requests"]
            - sides["after"]["API Gateway REST requests"]
        )
        assert rest == pytest.approx(gets * 3.50)
        assert sides["after"]["total"] < sides["before"]["total"]
    assert "| **total** |" in cost.markdown(result)
