"""Publishes committed status changes to SNS (the outbox relay behind the table stream)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import boto3

from paygate.domain import Payment
from paygate.events import StatusChanged
from paygate.observability import logger

SNS_BATCH_SIZE = 10  # PublishBatch's limit


def status_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> StatusChanged | None:
    """The event for one stream record's images, or None when the status did not change."""
    if not new or new.get("entity") != "payment":
        return None
    payment = Payment.model_validate(new)
    previous = Payment.model_validate(old).status if old else None
    if previous == payment.status:
        return None
    return StatusChanged.of(payment, previous)


class StatusPublisher:
    """Sends one SNS message per status change: JSON body plus filterable attributes."""

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("sns")

    def publish_batch(self, events: Sequence[StatusChanged]) -> set[int]:
        """Publish with PublishBatch, ten per call; the indexes of the events that failed."""
        failed: set[int] = set()
        for start in range(0, len(events), SNS_BATCH_SIZE):
            chunk = range(start, min(start + SNS_BATCH_SIZE, len(events)))
            entries = [self._entry(str(index), events[index]) for index in chunk]
            try:
                answer = self.client.publish_batch(
                    TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
                )
            except Exception:
                logger.exception("PublishBatch failed", extra={"events": len(entries)})
                failed.update(chunk)
                continue
            failed.update(int(entry["Id"]) for entry in answer.get("Failed", []))
        return failed

    @staticmethod
    def _entry(entry_id: str, event: StatusChanged) -> dict[str, Any]:
        return {
            "Id": entry_id,
            "Message": event.model_dump_json(),
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value}
                for name, value in event.attributes().items()
            },
        }

    def publish(self, event: StatusChanged) -> str:
        answer = self.client.publish(
            TopicArn=self.topic_arn,
            Message=event.model_dump_json(),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in event.attributes().items()
            },
        )
        return str(answer["MessageId"])
