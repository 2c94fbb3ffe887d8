"""A downstream subscriber for the local runtime: an SQS queue subscribed to the status topic
(raw delivery); prints each event and appends it to the events file."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import boto3

from local.aws.activity import Activity

QUEUE_NAME = "paygate-local-subscriber"


class EventSubscriber:
    def __init__(
        self,
        topic_arn: str,
        events_file: Path,
        console: TextIO = sys.stdout,
        activity: Activity | None = None,
    ) -> None:
        self.events_file = events_file
        self.console = console
        self.activity = activity or Activity()
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
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="subscriber")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.activity.wake()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        """Read the queue again as soon as this process published to SNS (or, idle, every
        IDLE_POLL_SECONDS); straight away while messages keep coming."""
        while not self.stopping.is_set():
            seen = self.activity.seen("sns")
            try:
                answer = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                )
            except Exception as exc:
                sys.stderr.write(f"[events] receive failed: {exc!r}\n")
                self.stopping.wait(0.5)
                continue
            messages = answer.get("Messages", [])
            if not messages:
                self.activity.wait("sns", seen)
            for message in messages:
                self._record(message["Body"])
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

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
