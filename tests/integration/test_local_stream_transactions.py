"""The local runtime's moto keeps DynamoDB's promise that a stream never shows a cancelled
write, and that a reader going on from the last sequence number it saw misses nothing
(local/aws/moto_dynamodb.py, installed by local/aws/moto_process.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.aws import moto_dynamodb

TABLE = "streamed"


@pytest.fixture(params=["as moto ships it", "as the local runtime runs it"])
def clients(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if request.param == "as the local runtime runs it":
        for owner, name, replacement in moto_dynamodb.patches():
            monkeypatch.setattr(owner, name, replacement)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="ap-southeast-1")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield request.param, dynamodb, boto3.client("dynamodbstreams", region_name="ap-southeast-1")


def _put(dynamodb: Any, key: str) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": key}})


def test_a_reader_sees_no_cancelled_write_and_misses_no_later_one(clients: Any) -> None:
    mode, dynamodb, streams = clients
    _put(dynamodb, "a")
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def after(sequence: str) -> str:
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                          SequenceNumber=sequence)["ShardIterator"]  # fmt: skip

    first = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    seen = streams.get_records(ShardIterator=first)["Records"]
    position = seen[-1]["dynamodb"]["SequenceNumber"]
    kept = after(position)  # a reader's iterator, taken before the transaction below
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "cancelled"}}}},
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET n = :one",
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])  # fmt: skip
    phantom = streams.get_records(ShardIterator=kept)["Records"]
    if phantom:
        position = phantom[-1]["dynamodb"]["SequenceNumber"]
    _put(dynamodb, "b")
    later = streams.get_records(ShardIterator=after(position))["Records"]
    keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in later]
    if mode == "as moto ships it":  # what the local runtime had to work around
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in phantom] == ["cancelled"]
        assert keys == []  # "b" reused the cancelled record's sequence number: skipped
    else:
        assert phantom == []
        assert keys == ["b"]
