"""The template's SQS event source mappings, run locally on moto's SQS and the local clock
(local/aws/clock.py), with Lambda's semantics for them:

- batches of at most the mapping's `BatchSize` messages, at most `MaximumConcurrency` batches
  handed over at once (threads; the handler's AWS calls count as its function's). Like every
  function here, the handler runs one invocation at a time (one execution environment: a
  handler module's state is never used by two at once); the worker settles a batch's
  payments in parallel itself;
- `ReportBatchItemFailures`: the messages the handler names in `batchItemFailures` (all of
  them when it raises) stay in the queue and are visible again once the queue's
  `VisibilityTimeout` has passed on the local clock; moto counts their receives and, past the
  redrive policy's `maxReceiveCount`, moves them to the DLQ; the others are deleted.

Lambda polls a queue all the time; here a poller drains its queue when asked: after every run
of a scheduled function (the dispatcher that fills the queues, local/aws/scheduler.py) and when
a failed message becomes visible again. moto's own visibility timer runs on real time, so a
received message is hidden there for `_HIDDEN_SECONDS` and made visible by the local clock.
"""

from __future__ import annotations

import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from local.aws.apigw import _LOCKS as INVOCATION_LOCKS
from local.aws.apigw import FakeLambdaContext, Handler
from local.aws.aws_calls import acting_as
from local.aws.clock import LocalClock
from local.aws.provision import REGION
from local.aws.template import QueueSource

_HIDDEN_SECONDS = 12 * 3600  # moto's (real-time) visibility timeout of a received message
_RECEIVE_MAX = 10  # ReceiveMessage's maximum
_counts = threading.Lock()


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS event as Lambda delivers it."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": message.get("Attributes", {}).get(
                        "ApproximateReceiveCount", "1"
                    ),
                    "SentTimestamp": message.get("Attributes", {}).get("SentTimestamp", "0"),
                },
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


class QueuePoller:
    """One event source mapping: `drain()` hands the queue's visible messages to the handler."""

    def __init__(
        self,
        source: QueueSource,
        queue_url: str,
        queue_arn: str,
        visibility_seconds: float,
        handler: Handler,
        clock: LocalClock,
        client: Any = None,
        timeout_seconds: float = 25.0,
    ) -> None:
        self.source = source
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.visibility_seconds = visibility_seconds
        self.handler = handler
        self.clock = clock
        self.timeout_seconds = timeout_seconds  # the function's `Timeout`
        self.client = client or boto3.client("sqs", region_name=REGION)
        self.invocations = 0
        self.delivered = 0  # messages handed to the handler (a redelivery counts again)
        self.failed = 0  # messages returned to the queue
        self._lock = threading.Lock()  # one drain at a time

    def start(self) -> None:
        """Nothing runs by itself: the scheduler and the clock's timers call `drain`."""

    def stop(self) -> None:
        """See `start`."""

    def drain(self) -> int:
        """Hand every visible message to the handler, in rounds of at most
        `max_concurrency` batches of `batch_size`; the messages handled."""
        handled = 0
        with self._lock:
            while True:
                messages = self._receive(self.source.batch_size * self.source.max_concurrency)
                if not messages:
                    return handled
                size = self.source.batch_size
                batches = [messages[i : i + size] for i in range(0, len(messages), size)]
                workers = min(self.source.max_concurrency, len(batches))
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for batch, failed in zip(batches, pool.map(self._invoke, batches), strict=True):
                        self._settle(batch, failed)
                handled += len(messages)

    def _receive(self, wanted: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < wanted:
            answer = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(_RECEIVE_MAX, wanted - len(found)),
                VisibilityTimeout=_HIDDEN_SECONDS,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            )
            page = answer.get("Messages") or []
            if not page:
                break
            found += page
        return found

    def _invoke(self, batch: list[dict[str, Any]]) -> set[str]:
        """The handler's answer to one batch: the ids of the messages that failed."""
        with _counts:
            self.invocations += 1
            self.delivered += len(batch)
        try:
            # One invocation of a function at a time, as for every function of the local
            # runtime (local/aws/apigw.py): the batches are handed over by up to
            # `max_concurrency` pollers, and run one after another (each invocation's time
            # starts when it runs).
            with INVOCATION_LOCKS[self.source.function_id], acting_as(self.source.function_id):
                context = FakeLambdaContext(
                    self.source.function_id,
                    aws_request_id=str(uuid.uuid4()),
                    timeout_seconds=self.timeout_seconds,
                )
                answer = self.handler(sqs_event(batch, self.queue_arn), context)
        except Exception as exc:  # like Lambda: the whole batch returns to the queue
            print(f"[queue] {self.source.function_id} failed: {exc!r}", file=sys.stderr)
            return {message["MessageId"] for message in batch}
        if not self.source.reports_failures or not isinstance(answer, dict):
            return set()
        return {str(f["itemIdentifier"]) for f in answer.get("batchItemFailures") or []}

    def _settle(self, batch: list[dict[str, Any]], failed: set[str]) -> None:
        done = [m for m in batch if m["MessageId"] not in failed]
        for start in range(0, len(done), _RECEIVE_MAX):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + _RECEIVE_MAX])
            ]
            self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        returned = [m["ReceiptHandle"] for m in batch if m["MessageId"] in failed]
        if returned:
            self.failed += len(returned)
            self.clock.call_later(
                self.visibility_seconds,
                lambda: self._reappear(returned),
                name=f"visibility-{self.source.function_id}-{self.source.queue_id}",
            )

    def _reappear(self, receipts: list[str]) -> None:
        """The visibility timeout passed on the local clock: the messages are visible again
        (and handed to the handler at once, as Lambda's poller would)."""
        for receipt in receipts:
            self.client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )
        self.drain()
