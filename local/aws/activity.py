"""Wakes the local event sources when this process has just written: the stream pollers read
the table's stream right after a DynamoDB write, and the event subscriber reads its queue right
after an SNS publish, instead of asking moto every 50 ms (an idle runtime then costs almost no
CPU, which matters when the test tiers run several runtimes side by side). Writes from outside
the process (another tool against moto) are still seen, at the idle poll interval."""

from __future__ import annotations

import threading
from typing import Any

import botocore.handlers

IDLE_POLL_SECONDS = 1.0
WRITES = {
    "dynamodb": frozenset(
        {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
    ),
    "sns": frozenset({"Publish", "PublishBatch"}),
}


class Activity:
    """A counter per service of the writes this process made, to wait on."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._writes = dict.fromkeys(WRITES, 0)

    def seen(self, service: str) -> int:
        """The count to pass to `wait`: take it before reading, so no write is missed."""
        with self._changed:
            return self._writes[service]

    def wait(self, service: str, seen: int, timeout: float = IDLE_POLL_SECONDS) -> None:
        """Return once `service` had a write after `seen`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._writes[service] != seen, timeout)

    def wake(self) -> None:
        """Wake every waiter now (stopping)."""
        with self._changed:
            for service in self._writes:
                self._writes[service] += 1
            self._changed.notify_all()

    def record(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        if model.name in WRITES.get(service, ()):
            with self._changed:
                self._writes[service] += 1
                self._changed.notify_all()


ACTIVITY = Activity()
_installed: list[bool] = []


def install() -> Activity:
    """Count this process's writes from now on (clients made later; once per process)."""
    if not _installed:
        _installed.append(True)
        for service in WRITES:
            botocore.handlers.BUILTIN_HANDLERS.append((f"after-call.{service}", ACTIVITY.record))
    return ACTIVITY
