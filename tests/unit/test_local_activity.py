"""The local runtime's wake-ups (local/aws/activity.py): a poller waiting for this process's
writes wakes as soon as one is made, reads never wake it, a write made while it was reading
is not missed, and a busy source is read at most once per interval."""

from __future__ import annotations

import itertools
import threading
import time
from types import SimpleNamespace

import pytest

from local.aws.activity import READ_INTERVAL_SECONDS, Activity, ActivityReader


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


def test_while_items_keep_coming_a_reader_reads_at_most_once_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream that has records at every read (a reconcile backlog's writes) is not read
    back to back: the reader pauses up to READ_INTERVAL_SECONDS between reads (a fake clock:
    the pauses move it)."""
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    reads: list[float] = []

    class Busy(ActivityReader):
        def read_once(self) -> int:
            reads.append(now[0])
            now[0] += 0.01  # the read itself
            if len(reads) == 5:
                self.stopping.set()
            return 1  # items keep coming

    reader = Busy("dynamodb", "stream", Activity(), retry_delay=1.0)

    def pause(seconds: float | None = None) -> bool:
        now[0] += seconds or 0.0
        return reader.stopping.is_set()

    monkeypatch.setattr(reader.stopping, "wait", pause)
    reader._run()
    gaps = [later - earlier for earlier, later in itertools.pairwise(reads)]
    assert len(reads) == 5
    assert all(gap >= READ_INTERVAL_SECONDS - 1e-9 for gap in gaps), gaps
