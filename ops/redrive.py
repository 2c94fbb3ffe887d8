"""Redrive the status publisher's DLQ: each message there describes a stream batch that ran
out of retries (shard, first and last sequence number); the records are read back from the
table's stream (kept 24 hours), turned into the same events (`event_id` = `<id>:<version>`,
so subscribers that already got one can drop the repeat) and published; a message is deleted
only when every event of its batch was accepted.

    python -m ops.redrive --queue-url <PublishDLQUrl> --topic-arn <StatusTopicArn>
    make redrive            # the local runtime's DLQ and topic (moto on PAYGATE_MOTO_PORT)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from ops import cli
from paygate.events import StatusChanged
from paygate.publisher import StatusPublisher, status_change

_deserializer = TypeDeserializer()


@dataclass
class RedriveReport:
    messages: int = 0
    published: int = 0
    kept: int = 0  # messages left in the DLQ (a publish failed, or the records are gone)
    problems: list[str] = field(default_factory=list)


def _image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if not image:
        return None
    return {key: _deserializer.deserialize(value) for key, value in image.items()}


def batch_events(streams: Any, info: dict[str, Any]) -> list[StatusChanged]:
    """The events of the stream records `info` describes (first to last sequence number)."""
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    last = int(info["endSequenceNumber"])
    events: list[StatusChanged] = []
    while iterator:
        answer = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = answer.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > last:
                return events
            images = record["dynamodb"]
            event = status_change(_image(images.get("OldImage")), _image(images.get("NewImage")))
            if event is not None:
                events.append(event)
        if not records:
            break
        iterator = answer.get("NextShardIterator")
    return events


def redrive(
    queue_url: str, publisher: StatusPublisher, sqs: Any = None, streams: Any = None
) -> RedriveReport:
    sqs = sqs or boto3.client("sqs")
    streams = streams or boto3.client("dynamodbstreams")
    report = RedriveReport()
    seen: set[str] = set()
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            return report
        for message in fresh:
            seen.add(message["MessageId"])
            report.messages += 1
            try:
                info = json.loads(message["Body"])["DDBStreamBatchInfo"]
                events = batch_events(streams, info)
            except Exception as exc:  # unreadable message, or records trimmed from the stream
                report.kept += 1
                report.problems.append(f"{message['MessageId']}: {exc!r}")
                continue
            failed = publisher.publish_batch(events)
            if failed:
                report.kept += 1
                report.problems.append(f"{message['MessageId']}: {len(failed)} event(s) refused")
                continue
            report.published += len(events)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _local_targets() -> tuple[str, str]:
    """The local runtime's DLQ and topic (named after their logical ids)."""
    cli.use_local_aws()
    queue = boto3.client("sqs").get_queue_url(QueueName="PublishDLQ")["QueueUrl"]
    topics = boto3.client("sns").list_topics()["Topics"]
    topic = next(t["TopicArn"] for t in topics if t["TopicArn"].endswith(":StatusTopic"))
    return queue, topic


def main() -> int:
    parser = cli.parser("Publish the status events parked in the DLQ")
    parser.add_argument("--queue-url", help="the stack's PublishDLQUrl output")
    parser.add_argument("--topic-arn", help="the stack's StatusTopicArn output")
    args = parser.parse_args()
    if args.local:
        queue_url, topic_arn = _local_targets()
    elif args.queue_url and args.topic_arn:
        queue_url, topic_arn = args.queue_url, args.topic_arn
    else:
        parser.error("give --queue-url and --topic-arn, or --local")
    report = redrive(queue_url, StatusPublisher(topic_arn))
    print(json.dumps(report.__dict__))
    return 0 if report.kept == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
