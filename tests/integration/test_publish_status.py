"""publish_status: real DynamoDB stream records (moto) → one SNS message per status change,
with the body and attributes docs/api.md gives ("Events"); SNS failures are reported as
partial batch failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
import pytest

from local.aws.apigw import FakeLambdaContext
from local.aws.provision import Provisioned
from local.aws.streams import lambda_record
from paygate.api_requests import PayproPaymentRequest
from paygate.domain import (
    Cause,
    Kind,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    QrAction,
    ReviewDecision,
    new_payment_id,
    payment_for,
)
from paygate.ledger import Ledger
from paygate.repository import PaymentRepository

EVENT_FIELDS = {
    "event_id", "type", "schema_version", "payment_id", "merchant_reference", "provider",
    "method", "status", "previous_status", "amount", "amount_received", "currency", "version",
    "occurred_at", "provider_reference", "next_action", "failure", "cause", "review",
}  # fmt: skip


def stream_records(aws: Provisioned) -> list[dict[str, Any]]:
    arn = aws.attributes[("PaymentsTable", "StreamArn")]
    streams = boto3.client("dynamodbstreams")
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += [
            lambda_record(r, arn) for r in streams.get_records(ShardIterator=iterator)["Records"]
        ]
    return records


def subscribe(aws: Provisioned) -> str:
    sqs = boto3.client("sqs")
    url: str = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(
        TopicArn=aws.refs["StatusTopic"], Protocol="sqs", Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )  # fmt: skip
    return url


def received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def run_payment_through(aws: Provisioned) -> Payment:
    ledger = Ledger(PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1)))
    payment = Payment(
        id=new_payment_id(), provider=Provider.PAYPRO, method=Method.VIETQR, amount=50000,
        merchant_reference="order-9",
    )  # fmt: skip
    action = ProviderUpdate(
        status=PaymentStatus.REQUIRES_ACTION,
        provider_reference="pf1",
        next_action=QrAction(payment_link="https://pay"),
    )
    ledger.start(payment, lambda _: action)
    outcome = ledger.ingest(
        Provider.PAYPRO, f"k-{payment.id}", {}, ProviderUpdate(status=PaymentStatus.SUCCEEDED),
        payment_id=payment.id,
    )  # fmt: skip
    assert outcome == "applied"
    return payment


@pytest.fixture
def publish(handlers: Callable[[str], ModuleType], aws: Provisioned) -> ModuleType:
    return handlers("publish_status")


def test_one_event_per_status_change_with_the_design_schema(
    publish: ModuleType, aws: Provisioned
) -> None:
    queue = subscribe(aws)
    payment = run_payment_through(aws)
    records = stream_records(aws)
    result = publish.lambda_handler({"Records": records}, FakeLambdaContext("publish"))
    assert result == {"batchItemFailures": []}
    messages = received(queue)
    events = [json.loads(m["Body"]) for m in messages]
    assert [(e["previous_status"], e["status"]) for e in events] == [
        (None, "created"),
        ("created", "requires_action"),
        ("requires_action", "succeeded"),
    ]
    # This payment was stored without its creation entry: its first event has no cause.
    assert [e["cause"] for e in events] == [None, "create", "webhook"]
    assert [e["review"] for e in events] == [None, None, None]
    for event, message in zip(events, messages, strict=True):
        assert set(event) == EVENT_FIELDS
        assert event["event_id"] == f"{payment.id}:{event['version']}"
        assert event["type"] == "payment.status_changed" and event["schema_version"] == 1
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert attributes == {
            "type": "payment.status_changed", "provider": "paypro", "method": "vietqr",
            "status": event["status"],
        }  # fmt: skip
    assert events[1]["next_action"] == {
        "type": "qr", "payment_link": "https://pay", "qr_payload": None,
    }  # fmt: skip


def test_a_review_publishes_exactly_one_event_with_the_decision(
    publish: ModuleType, aws: Provisioned
) -> None:
    ledger = Ledger(PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1)))
    request = PayproPaymentRequest(amount=50_000, merchant_reference="order-review")
    payment = payment_for(Provider.PAYPRO, request)
    ledger.start(payment, lambda _: ProviderUpdate(status=PaymentStatus.REQUIRES_ACTION))
    mismatch = ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=60_000,
                              currency="VND")  # fmt: skip
    assert ledger.ingest(Provider.PAYPRO, "k-r", {}, mismatch, payment_id=payment.id) == "applied"
    queue = subscribe(aws)
    publish.lambda_handler({"Records": stream_records(aws)}, FakeLambdaContext("publish"))
    before = [json.loads(m["Body"]) for m in received(queue)]
    assert [(e["status"], e["cause"]) for e in before] == [
        ("created", "create"), ("requires_action", "create"), ("needs_review", "webhook"),
    ]  # fmt: skip
    operator = ("3f1c9a52-7b1e-4d0a-9c56-2e8f4b7d1a60", "an.nguyen@merchant.example")
    decided = ledger.review(payment.id, Kind.PAYMENT, ReviewDecision.ACCEPT, "60k ok", *operator)
    records = stream_records(aws)
    publish.lambda_handler({"Records": records}, FakeLambdaContext("publish"))
    events = [json.loads(m["Body"]) for m in received(queue)]
    after = [e for e in events if e["version"] > before[-1]["version"]]
    assert len(after) == 1  # exactly one event for the review
    (event,) = after
    assert (event["previous_status"], event["status"], event["cause"]) == (
        "needs_review", "succeeded", "merchant_action",
    )  # fmt: skip
    assert event["review"] == {
        "decision": "accept", "note": "60k ok", "reviewed_by": operator[0],
        "reviewed_by_email": operator[1],
        "reviewed_at": decided.review.reviewed_at.isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]
    }  # fmt: skip
    assert event["amount_received"] == 60_000 and event["failure"] is None


def test_webhook_items_and_unchanged_statuses_publish_nothing(
    publish: ModuleType, aws: Provisioned
) -> None:
    queue = subscribe(aws)
    run_payment_through(aws)
    records = stream_records(aws)
    webhook_records = [r for r in records if r["dynamodb"]["NewImage"]["entity"]["S"] == "webhook"]
    assert webhook_records
    publish.lambda_handler({"Records": webhook_records}, FakeLambdaContext("publish"))
    assert received(queue) == []


def payment_records(aws: Provisioned) -> list[dict[str, Any]]:
    entity = lambda r: r["dynamodb"]["NewImage"]["entity"]["S"]  # noqa: E731
    return [r for r in stream_records(aws) if entity(r) == "payment"]


def test_an_entry_sns_refuses_is_reported_as_that_records_failure(
    publish: ModuleType, aws: Provisioned
) -> None:
    run_payment_through(aws)
    records = payment_records(aws)
    real = publish.publisher.client.publish_batch

    def refuse_second(**kwargs: Any) -> Any:
        entries = kwargs["PublishBatchRequestEntries"]
        kwargs["PublishBatchRequestEntries"] = [e for e in entries if e["Id"] != "1"]
        answer = real(**kwargs)
        answer["Failed"] = [{"Id": "1", "Code": "InternalError", "SenderFault": False}]
        return answer

    with mock.patch.object(publish.publisher.client, "publish_batch", side_effect=refuse_second):
        result = publish.lambda_handler({"Records": records}, FakeLambdaContext("publish"))
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert failed == [records[1]["dynamodb"]["SequenceNumber"]]


def test_sns_down_fails_every_record_of_the_batch(publish: ModuleType, aws: Provisioned) -> None:
    run_payment_through(aws)
    records = payment_records(aws)
    outage = RuntimeError("SNS unavailable")
    with mock.patch.object(publish.publisher.client, "publish_batch", side_effect=outage):
        result = publish.lambda_handler({"Records": records}, FakeLambdaContext("publish"))
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in records]


def test_n_changes_cost_ceil_n_over_10_sns_calls(publish: ModuleType, aws: Provisioned) -> None:
    queue = subscribe(aws)
    for _ in range(9):  # 9 payments x 3 status changes = 27 events
        run_payment_through(aws)
    records = payment_records(aws)
    calls: list[str] = []
    events = publish.publisher.client.meta.events

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events.register("before-call.sns", count)
    try:
        publish.lambda_handler({"Records": records}, FakeLambdaContext("publish"))
    finally:
        events.unregister("before-call.sns", count)
    assert calls == ["PublishBatch"] * 3
    assert len(received(queue)) == 27


def test_the_stream_filter_passes_ledger_changes_and_drops_schedule_writes(
    aws: Provisioned,
) -> None:
    """The template's filter (what Lambda applies before invoking `publish_status`): a
    reschedule by the reconcile job changes nothing a merchant sees and costs no invocation."""
    from local.aws.template import load_template, matches_filter

    (source,) = load_template().stream_sources()
    repository = PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1))
    payment = Payment(
        id=new_payment_id(), provider=Provider.PAYPRO, method=Method.VIETQR, amount=50000,
        merchant_reference="order-filter",
    )  # fmt: skip
    repository.create(payment)
    assert repository.reschedule(payment, payment.created_at + timedelta(minutes=5), 1)
    changed = Ledger(repository).apply(
        payment, ProviderUpdate(status=PaymentStatus.PENDING), Cause.RECONCILIATION
    )
    assert changed.version == 2
    passes = [
        any(matches_filter(pattern, record) for pattern in source.filter_patterns)
        for record in stream_records(aws)
        if record["dynamodb"]["NewImage"]["entity"]["S"] == "payment"
    ]
    assert passes == [True, False, True]  # create, reschedule, change
