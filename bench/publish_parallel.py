"""A stream batch's PublishBatch calls, one after another against in parallel
(`paygate.publisher.PARALLEL_BATCHES`), over an SNS stand-in that answers after a set latency
(SNS's own answer time is the variable: the CPU per call is the same either way).

Run: `.venv/bin/python -m bench.publish_parallel`; prints records/s and the ratio per latency."""

from __future__ import annotations

import statistics
import time
from typing import Any, cast

from bench.common import use_repo_paths

use_repo_paths()

from paygate import publisher  # noqa: E402
from paygate.events import StatusChanged  # noqa: E402
from paygate.publisher import StatusPublisher  # noqa: E402

RECORDS = 100  # the stream event source's BatchSize
LATENCIES_MS = (5, 20, 50)
RUNS = 7


class _Event:
    def __init__(self, number: int) -> None:
        self.number = number

    def model_dump_json(self) -> str:
        return f'{{"payment_id": "pay_{self.number:026d}", "status": "succeeded"}}'

    def attributes(self) -> dict[str, str]:
        return {"status": "succeeded", "provider": "paypro", "kind": "payment"}


class _Sns:
    def __init__(self, latency: float) -> None:
        self.latency = latency

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[Any]) -> Any:
        time.sleep(self.latency)
        return {"Successful": [{"Id": e["Id"]} for e in PublishBatchRequestEntries]}


def _records_per_second(latency: float, parallel: int) -> float:
    events = cast("list[StatusChanged]", [_Event(n) for n in range(RECORDS)])
    sender = StatusPublisher("arn:aws:sns:ap-southeast-1:1:status", client=_Sns(latency))
    publisher.PARALLEL_BATCHES = parallel
    took = []
    for _ in range(RUNS):
        started = time.perf_counter()
        assert not sender.publish_batch(events)
        took.append(time.perf_counter() - started)
    return RECORDS / statistics.median(took)


def main() -> None:
    kept = publisher.PARALLEL_BATCHES
    try:
        print("| SNS latency | sequential rec/s | parallel rec/s | ratio |")
        print("|---:|---:|---:|---:|")
        for ms in LATENCIES_MS:
            one = _records_per_second(ms / 1000, 1)
            many = _records_per_second(ms / 1000, kept)
            print(f"| {ms} ms | {one:,.0f} | {many:,.0f} | {many / one:.1f}x |")
    finally:
        publisher.PARALLEL_BATCHES = kept


if __name__ == "__main__":
    main()
