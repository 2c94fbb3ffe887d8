"""The local runtime's wake-ups (local/aws/activity.py): a poller waiting for this process's
writes wakes as soon as one is made, reads never wake it, and a write made while it was reading
is not missed."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from local.aws.activity import Activity


def _call(service: str, operation: str) -> SimpleNamespace:
    return SimpleNamespace(name=operation, service_model=SimpleNamespace(service_name=service))


def _waited(activity: Activity, service: str, seen: int, timeout: float) -> float:
    began = time.monotonic()
    activity.wait(service, seen, timeout)
    return time.monotonic() - began


def test_a_write_wakes_the_waiter_at_once() -> None:
    activity = Activity()
    seen = activity.seen("dynamodb")
    threading.Timer(0.05, activity.record, kwargs={"model": _call("dynamodb", "PutItem")}).start()
    assert _waited(activity, "dynamodb", seen, timeout=5) < 2


def test_reads_and_other_services_do_not_wake_it() -> None:
    activity = Activity()
    seen = activity.seen("dynamodb")
    activity.record(model=_call("dynamodb", "GetItem"))
    activity.record(model=_call("dynamodb", "Query"))
    activity.record(model=_call("sns", "Publish"))
    assert activity.seen("dynamodb") == seen
    assert _waited(activity, "dynamodb", seen, timeout=0.2) >= 0.19
    assert activity.seen("sns") != 0


def test_a_write_made_while_reading_is_not_missed() -> None:
    activity = Activity()
    seen = activity.seen("sns")  # taken before the read
    activity.record(model=_call("sns", "PublishBatch"))  # lands during the read
    assert _waited(activity, "sns", seen, timeout=5) < 0.5


def test_wake_releases_every_waiter() -> None:
    activity = Activity()
    seen = activity.seen("dynamodb")
    threading.Timer(0.05, activity.wake).start()
    assert _waited(activity, "dynamodb", seen, timeout=5) < 2
