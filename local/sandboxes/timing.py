"""The sandboxes' view of time: what they are given (`Now`, `Timers`) and their own real-time
timers when nothing is given. The local runtime passes its one clock (any object with
`call_at(when, fn, *, lane=...)` fits `Timers`), so a sandbox never imports it."""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

Now = Callable[[], datetime]


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    """Schedules `fn` at `when` on a lane (each sandbox has its own: one call at a time)."""

    def call_at(
        self, when: datetime, fn: Callable[[], object], *, lane: str = ""
    ) -> Cancellable: ...


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass(order=True)
class _Timer:
    when: datetime
    seq: int
    fn: Callable[[], object] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class RealTimers:
    """System-time timers on one background thread, run one at a time in time order (ties in
    the order they were set): a standalone sandbox's clock."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[_Timer] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def call_at(self, when: datetime, fn: Callable[[], object], *, lane: str = "") -> _Timer:
        timer = _Timer(when.astimezone(UTC), next(self._seq), fn)
        with self._cond:
            heapq.heappush(self._heap, timer)
            self._cond.notify_all()
        return timer

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="sandbox-timers", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _next_due(self) -> _Timer | None:
        with self._cond:
            while not self._stopping:
                if self._heap:
                    wait = (self._heap[0].when - system_now()).total_seconds()
                    if wait <= 0:
                        return heapq.heappop(self._heap)
                    self._cond.wait(min(wait, 1.0))
                else:
                    self._cond.wait(1.0)
            return None

    def _work(self) -> None:
        while (timer := self._next_due()) is not None:
            if timer.cancelled:
                continue
            try:
                timer.fn()
            except Exception:  # one failing timer must not stop the others
                traceback.print_exc(file=sys.stderr)
