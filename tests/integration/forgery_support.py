"""What the forgery tests watch: a payment's state as the API shows it, the events the status
publisher sends for the stream records written after a mark, and the webhook items stored."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3

from local.aws.apigw import FakeLambdaContext
from local.aws.provision import Provisioned
from local.aws.streams import lambda_record

from .conftest import Api, body_of
from .test_publish_status import received, subscribe


def stream_records(aws: Provisioned) -> list[dict[str, Any]]:
    """Every record of the payments table's stream so far, as Lambda receives them (read to
    the end of each shard, page by page)."""
    arn = aws.attributes[("PaymentsTable", "StreamArn")]
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += [lambda_record(r, arn) for r in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


def state(api: Api, payment_id: str) -> tuple[Any, ...]:
    """What a forgery may not change: status, version, amount received."""
    kind = "payouts" if payment_id.startswith("po_") else "payments"
    found = body_of(api.call("GET", f"/v1/{kind}/{payment_id}"))
    return found["status"], found["version"], found.get("amount_received")


BATCH = 100  # records per invocation (the stream's event source mapping)


class Events:
    """The events published for what the table records from `mark()` on (the stream read, then
    the real publish_status handler, then the SNS topic's subscriber queue)."""

    def __init__(self, aws: Provisioned, handlers: Callable[[str], ModuleType]) -> None:
        self.aws, self.handlers = aws, handlers
        self.queue = subscribe(aws)
        self.seen = 0

    def mark(self) -> None:
        self.published()  # everything so far is published and drained
        self.seen = len(stream_records(self.aws))

    def published(self) -> list[dict[str, Any]]:
        """The events of the records written since the last mark (or call)."""
        records = stream_records(self.aws)
        new, self.seen = records[self.seen :], len(records)
        publish = self.handlers("publish_status").lambda_handler
        for start in range(0, len(new), BATCH):  # as the event source mapping hands them over
            batch = {"Records": new[start : start + BATCH]}
            answer = publish(batch, FakeLambdaContext("publish"))
            assert answer == {"batchItemFailures": []}, (answer, batch["Records"][:1])
        return [json.loads(m["Body"]) for m in received(self.queue)]


def webhook_items(aws: Provisioned) -> list[dict[str, Any]]:
    found = boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"]
    return [i for i in found if i["entity"]["S"] == "webhook"]


def applied_about(aws: Provisioned, payment_id: str) -> list[dict[str, Any]]:
    """Stored webhook items recorded as applied whose body names `payment_id`."""
    found = []
    for item in webhook_items(aws):
        if item.get("outcome", {}).get("S") != "applied":
            continue
        body = item.get("body", {})
        text = zlib.decompress(body["B"]).decode() if "B" in body else json.dumps(body)
        if payment_id in text:
            found.append(item)
    return found


def refusal(response: dict[str, Any]) -> dict[str, Any] | None:
    """The error of a 4xx answer, None for a 2xx; a 5xx fails the test."""
    assert response["statusCode"] < 500, response
    if response["statusCode"] < 400:
        return None
    error: dict[str, Any] = body_of(response)["error"]
    return error
