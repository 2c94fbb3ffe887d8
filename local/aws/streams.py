"""Polls the table's DynamoDB stream and invokes the stream function the way Lambda's event
source mapping does: filter criteria, batches, partial-failure checkpoints, bounded retries,
bisect on error, and an on-failure record in the DLQ."""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from local.aws.activity import Activity, ActivityReader
from local.aws.apigw import Handler, invoke
from local.aws.template import FunctionDef, StreamSource, matches_filter

Record = dict[str, Any]
RETRY_DELAY_SECONDS = 0.2


def lambda_record(raw: Record, stream_arn: str) -> Record:
    """A stream record as Lambda delivers it (epoch seconds, event source ARN)."""
    record = dict(raw)
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    record["dynamodb"] = dynamodb
    record["eventSourceARN"] = stream_arn
    return record


class StreamPoller(ActivityReader):
    """Reads the table's stream right after this process wrote to DynamoDB."""

    def __init__(
        self,
        source: StreamSource,
        stream_arn: str,
        function: FunctionDef,
        handler: Handler,
        dlq_url: str | None,
        activity: Activity | None = None,
    ) -> None:
        self.source = source
        self.stream_arn = stream_arn
        self.function = function
        self.handler = handler
        self.dlq_url = dlq_url
        self.streams = boto3.client("dynamodbstreams")
        self.sqs = boto3.client("sqs")
        self.positions: dict[str, str] = {}
        super().__init__("dynamodb", "stream", activity, RETRY_DELAY_SECONDS)

    def read_once(self) -> int:
        """Read every shard once and deliver what passes the filters; returns records read."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        total = 0
        for shard in shards.get("Shards", []):
            shard_id = shard["ShardId"]
            # A fresh iterator from the last sequence number read on every poll, as a reader
            # that keeps none: the moto process keeps only the newest iterators
            # (local/aws/moto_dynamodb.py).
            last = self.positions.get(shard_id)
            position = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                if last
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, **position
            )["ShardIterator"]
            answer = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            raw = answer.get("Records", [])
            if raw:
                self.positions[shard_id] = raw[-1]["dynamodb"]["SequenceNumber"]
            records = [lambda_record(r, self.stream_arn) for r in raw]
            total += len(records)
            wanted = [r for r in records if self._passes(r)]
            for start in range(0, len(wanted), self.source.batch_size):
                self.deliver(shard_id, wanted[start : start + self.source.batch_size])
        return total

    def _passes(self, record: Record) -> bool:
        patterns = self.source.filter_patterns
        return not patterns or any(matches_filter(p, record) for p in patterns)

    def deliver(self, shard_id: str, batch: list[Record]) -> None:
        """Invoke until the batch succeeds, retrying from the first failed record; split the
        batch on errors when bisect is on; give up to the DLQ after the retry budget."""
        pending = [batch]
        while pending:
            current = pending.pop(0)
            attempts = 0
            while current:
                failed_from = self._invoke(current)
                if failed_from is None:
                    break
                current = current[failed_from:]
                attempts += 1
                if self.source.bisect and len(current) > 1:
                    half = len(current) // 2
                    pending[:0] = [current[:half], current[half:]]
                    current = []
                    break
                if attempts > self.source.max_retries:
                    self._to_dlq(shard_id, current, attempts)
                    break
                time.sleep(RETRY_DELAY_SECONDS * attempts)

    def _invoke(self, batch: list[Record]) -> int | None:
        """Index of the first failed record, or None when the whole batch succeeded."""
        try:
            result = invoke(self.function, self.handler, {"Records": batch})
        except Exception as exc:
            sys.stderr.write(f"[stream] {self.function.logical_id} failed: {exc!r}\n")
            return 0
        failures = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        for index, record in enumerate(batch):
            if record["dynamodb"]["SequenceNumber"] in failures:
                return index
        return None

    def _to_dlq(self, shard_id: str, batch: list[Record], attempts: int) -> None:
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        sys.stderr.write(f"[stream] {len(batch)} record(s) to the DLQ after {attempts} attempts\n")
        if not self.dlq_url:
            return
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function.logical_id,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": sequence[0],
                "endSequenceNumber": sequence[-1],
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.dlq_url, MessageBody=json.dumps(message))
