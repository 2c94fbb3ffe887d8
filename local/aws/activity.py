"""Wakes the local event sources when this process has just written: the stream pollers read
the table's stream right after a DynamoDB write, and the event subscriber reads its queue right
after an SNS publish, instead of asking moto every 50 ms (an idle runtime then costs almost no
CPU, which matters when the test tiers run several runtimes side by side). Writes from outside
the process (another tool against moto) are still seen, at the idle poll interval."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import botocore.handlers

IDLE_POLL_SECONDS = 1.0
READ_INTERVAL_SECONDS = 0.2
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


class ActivityReader:
    """A daemon thread that reads `service`'s output (`read_once`: how many items it handled)
    as soon as this process wrote to the service (or, idle, every IDLE_POLL_SECONDS), again
    while items keep coming (at most once per READ_INTERVAL_SECONDS), and `retry_delay`
    seconds after a failed read."""

    def __init__(self, service: str, name: str, activity: Activity | None, retry_delay: float):
        self.service = service
        self.name = name
        self.activity = activity or Activity()
        self.retry_delay = retry_delay
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=name)

    def read_once(self) -> int:
        raise NotImplementedError

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.activity.wake()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        last = 0.0
        while not self.stopping.is_set():
            # At most one read per READ_INTERVAL_SECONDS: while writes keep coming (a reconcile
            # backlog writes leases, claims and reschedules), the writes of the interval are
            # read together, not each with a read of its own that queues behind them in moto.
            pause = last + READ_INTERVAL_SECONDS - time.monotonic()
            if pause > 0 and self.stopping.wait(pause):
                return
            last = time.monotonic()
            seen = self.activity.seen(self.service)
            try:
                handled = self.read_once()
            except Exception as exc:  # keep reading; show why
                sys.stderr.write(f"[{self.name}] read failed: {exc!r}\n")
                self.stopping.wait(self.retry_delay)
                continue
            if not handled:
                self.activity.wait(self.service, seen)


ACTIVITY = Activity()
_installed: list[bool] = []


def install() -> Activity:
    """Count this process's writes from now on (clients made later; once per process)."""
    if not _installed:
        _installed.append(True)
        for service in WRITES:
            botocore.handlers.BUILTIN_HANDLERS.append((f"after-call.{service}", ACTIVITY.record))
    return ACTIVITY
