"""The local AWS process's changes to moto (local/aws/moto_dynamodb.py): a cancelled
transaction leaves every item and the stream as they were, through the real process; the
undo log ends in the same state as moto's table copies over random transactions; the stream
and the shard iterators stay bounded; moto keeps no record of every object it made."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item

from local.aws import moto_dynamodb
from local.aws.moto_process import MotoProcess

TABLE = "transacted"
REGION = "ap-southeast-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _create_table(dynamodb: Any, ranged: bool = False) -> str:
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if ranged:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "S"})
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=schema,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn: str = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return arn


def _stream(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record the stream keeps, without the fields that differ run to run."""
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [
        {
            "event": r["eventName"],
            "sequence": r["dynamodb"]["SequenceNumber"],
            "old": r["dynamodb"].get("OldImage"),
            "new": r["dynamodb"].get("NewImage"),
        }
        for r in records
    ]


@pytest.fixture(scope="module")
def local_aws() -> Iterator[tuple[Any, Any]]:
    """The local runtime's AWS process (`python -m local.aws.moto_process`) on a free port."""
    process = MotoProcess("127.0.0.1", _free_port())
    process.start()
    endpoint = f"http://{process.host}:{process.port}"
    options: dict[str, Any] = {
        "region_name": REGION,
        "endpoint_url": endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": Config(retries={"max_attempts": 1, "mode": "standard"}),
    }
    try:
        yield boto3.client("dynamodb", **options), boto3.client("dynamodbstreams", **options)
    finally:
        process.stop()


def test_a_cancelled_transaction_leaves_every_item_and_the_stream_as_they_were(
    local_aws: tuple[Any, Any],
) -> None:
    dynamodb, streams = local_aws
    arn = _create_table(dynamodb)
    for key, n in (("kept", "1"), ("deleted", "2"), ("checked", "3")):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": key}, "n": {"N": n}})
    before_items = dynamodb.scan(TableName=TABLE)["Items"]
    before_stream = _stream(streams, arn)

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "n": {"N": "9"}}}},
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET n = n + :one, added = :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "deleted"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "checked"}},
                                "ConditionExpression": "n = :seven",
                                "ExpressionAttributeValues": {":seven": {"N": "7"}}}},
        ])  # fmt: skip
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "None", "ConditionalCheckFailed"]
    assert dynamodb.scan(TableName=TABLE)["Items"] == before_items
    assert _stream(streams, arn) == before_stream

    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "after"}})
    after = _stream(streams, arn)
    assert len(after) == len(before_stream) + 1
    assert after[-1]["new"] == {"pk": {"S": "after"}}
    assert int(after[-1]["sequence"]) == int(before_stream[-1]["sequence"]) + 1


KEYS = st.sampled_from(["a", "b", "c"])
SORTS = st.sampled_from(["1", "2"])
OPERATION = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]),
        "pk": KEYS,
        "sk": SORTS,
        "value": st.integers(0, 3),
        "condition": st.sampled_from([None, "exists", "absent", "equals"]),
    }
)
TRANSACTION = st.lists(OPERATION, min_size=1, max_size=4)


def _operation(op: dict[str, Any], ranged: bool) -> dict[str, Any]:
    key = {"pk": {"S": op["pk"]}, **({"sk": {"S": op["sk"]}} if ranged else {})}
    value = {":v": {"N": str(op["value"])}}
    body: dict[str, Any] = {"TableName": TABLE}
    if op["kind"] == "Put":
        body["Item"] = {**key, "n": {"N": str(op["value"])}}
    else:
        body["Key"] = key
    if op["kind"] == "Update":
        body["UpdateExpression"] = "SET n = :v"
        body["ExpressionAttributeValues"] = value
    condition = op["condition"] or ("exists" if op["kind"] == "ConditionCheck" else None)
    if condition == "exists":
        body["ConditionExpression"] = "attribute_exists(pk)"
    elif condition == "absent":
        body["ConditionExpression"] = "attribute_not_exists(pk)"
    elif condition == "equals":
        body["ConditionExpression"] = "n = :v"
        body["ExpressionAttributeValues"] = value
    return {op["kind"]: body}


def _play(transactions: list[list[dict[str, Any]]], ranged: bool) -> tuple[Any, ...]:
    """Run the transactions on a fresh moto; the outcome of each, the items, the stream."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        arn = _create_table(dynamodb, ranged)
        outcomes = []
        for transaction in transactions:
            try:
                writes = [_operation(op, ranged) for op in transaction]
                dynamodb.transact_write_items(TransactItems=writes)
                outcomes.append("committed")
            except ClientError as error:
                reasons = error.response.get("CancellationReasons", [])
                outcomes.append(str([r.get("Code") for r in reasons] or error.response["Error"]))
        stored = sorted(map(str, dynamodb.scan(TableName=TABLE)["Items"]))
        return outcomes, stored, _stream(streams, arn)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions=st.lists(TRANSACTION, min_size=1, max_size=6), ranged=st.booleans())
def test_the_undo_log_ends_where_table_copies_end(
    transactions: list[list[dict[str, Any]]], ranged: bool
) -> None:
    shipped = _play(transactions, ranged)
    with pytest.MonkeyPatch.context() as patch:
        for owner, name, replacement in moto_dynamodb.patches():
            patch.setattr(owner, name, replacement)
        undone = _play(transactions, ranged)
    assert undone == shipped


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    for owner, name, replacement in moto_dynamodb.patches():
        monkeypatch.setattr(owner, name, replacement)
    monkeypatch.setattr(moto_dynamodb, "STREAM_RETAINED_RECORDS", 20)
    monkeypatch.setattr(moto_dynamodb, "TRIM_STEP", 5)
    monkeypatch.setattr(moto_dynamodb, "SHARD_ITERATORS_KEPT", 10)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        yield dynamodb, streams, _create_table(dynamodb)


def test_the_stream_keeps_its_newest_records_and_refuses_a_trimmed_position(
    patched: tuple[Any, Any, str],
) -> None:
    dynamodb, streams, arn = patched
    for n in range(60):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"k{n}"}})
    kept = _stream(streams, arn)
    assert 20 <= len(kept) < 25
    sequences = [int(r["sequence"]) for r in kept]
    assert sequences == list(range(sequences[0], sequences[0] + len(kept)))
    assert kept[-1]["new"] == {"pk": {"S": "k59"}}
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    trimmed = streams.get_shard_iterator(
        StreamArn=arn,
        ShardId=shard,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=str(sequences[0] - 2),
    )["ShardIterator"]
    with pytest.raises(ClientError, match="TrimmedDataAccessException"):
        streams.get_records(ShardIterator=trimmed)


def test_shard_iterators_and_model_objects_are_not_kept(patched: tuple[Any, Any, str]) -> None:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    dynamodb, streams, arn = patched
    tracked = len(Item.instances_tracked)  # type: ignore[attr-defined]
    for n in range(30):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"k{n}"}})
        _stream(streams, arn)
    backend = dynamodbstreams_backends["123456789012"][REGION]
    assert len(backend.shard_iterators) <= 10
    assert len(Item.instances_tracked) == tracked  # type: ignore[attr-defined]


def test_sns_and_sqs_keep_bounded_histories(patched: tuple[Any, Any, str]) -> None:
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto_dynamodb, "NOTIFICATIONS_KEPT", 10)
        patch.setattr(moto_dynamodb, "DELETED_HANDLES_KEPT", 10)
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="events")["TopicArn"]
        queue = sqs.create_queue(QueueName="events")["QueueUrl"]
        for n in range(40):
            sns.publish(TopicArn=topic, Message=f"m{n}")
            sqs.send_message(QueueUrl=queue, MessageBody=f"q{n}")
            (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        kept = sns_backends["123456789012"][REGION].topics[topic].sent_notifications
        assert 10 <= len(kept) <= 15
        assert kept[-1][1] == "m39"
        deleted = sqs_backends["123456789012"][REGION].queues["events"].deleted_messages
        assert 0 < len(deleted) <= 20
