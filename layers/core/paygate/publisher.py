"""Publishes committed status changes to SNS (the outbox relay behind the table stream)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3

from paygate.models import Payment, StatusChanged


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
