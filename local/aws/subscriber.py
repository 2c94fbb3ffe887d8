"""A downstream subscriber for the local runtime: an SQS queue subscribed to the status topic
(raw delivery); prints each event and appends it to the events file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import boto3

from local.aws.activity import Activity, ActivityReader

QUEUE_NAME = "paygate-local-subscriber"


class EventSubscriber(ActivityReader):
    def __init__(
        self,
        topic_arn: str,
        events_file: Path,
        console: TextIO = sys.stdout,
        activity: Activity | None = None,
    ) -> None:
        self.events_file = events_file
        self.console = console
        self.sqs = boto3.client("sqs")
        self.queue_url = self.sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        boto3.client("sns").subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        super().__init__("sns", "events", activity, retry_delay=0.5)

    def read_once(self) -> int:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        messages = answer.get("Messages", [])
        for message in messages:
            self._record(message["Body"])
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _record(self, body: str) -> None:
        with self.events_file.open("a", encoding="utf-8") as handle:
            handle.write(body.strip() + "\n")
        try:
            event: dict[str, Any] = json.loads(body)
            line = (
                f"[event] {event.get('type')} {event.get('payment_id')} "
                f"{event.get('previous_status') or '-'} -> {event.get('status')} "
                f"(v{event.get('version')}, {event.get('event_id')})"
            )
        except json.JSONDecodeError:
            line = f"[event] {body}"
        print(line, file=self.console, flush=True)
