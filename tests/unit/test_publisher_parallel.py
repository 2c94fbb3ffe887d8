"""The stream publisher sends a batch's PublishBatch calls at once, not one after another,
and still reports exactly the events that failed (`paygate.publisher`)."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest

from paygate import deadline
from paygate.events import StatusChanged
from paygate.publisher import PARALLEL_BATCHES, SNS_BATCH_SIZE, StatusPublisher


class Event:
    """What the publisher reads of a status change."""

    def __init__(self, number: int) -> None:
        self.number = number

    def model_dump_json(self) -> str:
        return f'{{"n": {self.number}}}'

    def attributes(self) -> dict[str, str]:
        return {"status": "succeeded"}


class CountingSns:
    """An SNS client that holds every PublishBatch until `together` calls are in flight (a
    sequential publisher never gets there: the barrier breaks and its calls fail), counts the
    most at once and fails the entries named in `refuse`."""

    def __init__(self, together: int, refuse: frozenset[str] = frozenset()) -> None:
        self.barrier = threading.Barrier(together, timeout=10)
        self.refuse = refuse
        self.lock = threading.Lock()
        self.in_flight = self.most = self.calls = 0
        self.budgets: list[float | None] = []

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]) -> Any:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.budgets.append(deadline.remaining())
        try:
            self.barrier.wait()
        finally:
            with self.lock:
                self.in_flight -= 1
        ids = [entry["Id"] for entry in PublishBatchRequestEntries]
        return {
            "Successful": [{"Id": i} for i in ids if i not in self.refuse],
            "Failed": [{"Id": i, "Code": "InternalError"} for i in ids if i in self.refuse],
        }


def events(count: int) -> list[StatusChanged]:
    return cast("list[StatusChanged]", [Event(n) for n in range(count)])


@pytest.mark.parametrize("count", [20, 55, 100])
def test_a_batch_is_published_in_parallel_calls(count: int) -> None:
    chunks = -(-count // SNS_BATCH_SIZE)
    sns = CountingSns(
        together=min(chunks, PARALLEL_BATCHES), refuse=frozenset({"3", str(count - 1)})
    )
    publisher = StatusPublisher("arn:aws:sns:ap-southeast-1:1:status", client=sns)
    deadline.set_budget(20)
    try:
        failed = publisher.publish_batch(events(count))
    finally:
        deadline.set_budget(None)
    assert failed == {3, count - 1}
    assert sns.calls == chunks and sns.most == min(chunks, PARALLEL_BATCHES)
    assert all(left is not None for left in sns.budgets)  # the deadline reaches every call


def test_a_failed_call_fails_only_its_own_events() -> None:
    class Broken(CountingSns):
        def publish_batch(
            self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]
        ) -> Any:
            answer = super().publish_batch(TopicArn, PublishBatchRequestEntries)
            if PublishBatchRequestEntries[0]["Id"] == "10":
                raise RuntimeError("SNS is down")
            return answer

    publisher = StatusPublisher("arn", client=Broken(together=3))
    assert publisher.publish_batch(events(30)) == set(range(10, 20))


def test_one_call_needs_no_threads() -> None:
    sns = CountingSns(together=1)
    publisher = StatusPublisher("arn", client=sns)
    assert publisher.publish_batch(events(7)) == set()
    assert publisher.publish_batch(events(0)) == set()
    assert sns.calls == 1
