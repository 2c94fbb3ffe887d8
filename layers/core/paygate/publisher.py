"""Publishes committed status changes to SNS (the outbox relay behind the table stream)."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any

from paygate import aws_clients
from paygate.domain import Payment, PaymentStatus
from paygate.events import StatusChanged
from paygate.observability import logger

SNS_BATCH_SIZE = 10  # PublishBatch's limit
# A stream batch (BatchSize 100 in template.yaml) is at most ten PublishBatch calls: sent at
# once, one connection each (`aws_clients.MAX_POOL_CONNECTIONS`); boto3 clients are thread-safe.
PARALLEL_BATCHES = 10


def changed_payment(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[Payment, PaymentStatus | None] | None:
    """The payment of one stream record and its previous status, or None when the record is
    not a payment whose status changed."""
    if not new or new.get("entity") != "payment":
        return None
    payment = Payment.model_validate(new)
    previous = Payment.model_validate(old).status if old else None
    if previous == payment.status:
        return None
    return payment, previous


def status_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> StatusChanged | None:
    """The event for one stream record's images, or None when the status did not change."""
    changed = changed_payment(old, new)
    return None if changed is None else StatusChanged.of(*changed)


class StatusPublisher:
    """Sends one SNS message per status change: JSON body plus filterable attributes."""

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or aws_clients.client("sns")

    def publish_batch(self, events: Sequence[StatusChanged]) -> set[int]:
        """Publish with PublishBatch, ten per call, the calls in parallel (`PARALLEL_BATCHES`);
        the indexes of the events that failed."""
        chunks = [
            range(start, min(start + SNS_BATCH_SIZE, len(events)))
            for start in range(0, len(events), SNS_BATCH_SIZE)
        ]
        if len(chunks) <= 1:
            return set().union(*(self._publish_chunk(events, chunk) for chunk in chunks))
        _ = self.client  # the cached client is made once, before the threads share it
        # Each call runs in a copy of this context: the invocation's deadline goes with it.
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=min(PARALLEL_BATCHES, len(chunks))) as pool:
            results = pool.map(
                lambda chunk: context.copy().run(self._publish_chunk, events, chunk), chunks
            )
            return set().union(*results)

    def _publish_chunk(self, events: Sequence[StatusChanged], chunk: range) -> set[int]:
        """One PublishBatch call; the indexes of its events that failed."""
        entries = [self._entry(str(index), events[index]) for index in chunk]
        try:
            answer = self.client.publish_batch(
                TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
            )
        except Exception:
            logger.exception("PublishBatch failed", extra={"events": len(entries)})
            return set(chunk)
        return {int(entry["Id"]) for entry in answer.get("Failed", [])}

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
