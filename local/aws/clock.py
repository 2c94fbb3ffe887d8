"""The local runtime's one clock (local only: nothing of it is deployed; in AWS the gateway's
clock is the system clock). The functions (`paygate.clock.use(clock.now)`), the schedules
(local/aws/scheduler.py) and the provider sandboxes' delivery queues all read it and set their
timers on it.

`LocalClock` is UTC time = a base + an offset:

- mode ``"real"`` (`make run`): base = the system clock, so time follows real time and a
  background thread runs each timer when real time reaches it;
- mode ``"manual"`` (tests; ``PAYGATE_CLOCK=manual``): base = the system time when the clock was
  made, frozen, so time moves only by `advance()`.

In both modes a timer that is already due when it is set (a sandbox's first callback attempt
after a customer pays) runs at once in the background. Each timer has a lane (each sandbox
its own, the schedules the default one): in the background a lane's timers run one at a time
in time order on the lane's thread, lanes side by side (as each provider sends on its own).
`advance(seconds)` first lets the lanes finish what they were given, then moves the clock
forward and returns only after every timer that fell due has run, in time order (ties in the
order they were set), one at a time on the advancing thread: the clock steps to each timer's
time and runs it, then the next, including timers those timers set; then it stands at the
target.

`POST /_local/clock` ``{"advance_seconds": N}`` and `GET /_local/clock` (local/run.py) answer
``{"now": "<ISO-8601>"}`` through `clock_route`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

Mode = Literal["real", "manual"]
MODES: tuple[Mode, ...] = ("real", "manual")
MAX_ADVANCE_SECONDS = 400 * 86_400.0  # one call may move the clock by at most ~13 months


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    """What a sandbox needs from a clock to schedule work (LocalClock provides it)."""

    def call_at(
        self, when: datetime, fn: Callable[[], object], *, lane: str = ""
    ) -> Cancellable: ...


@dataclass(order=True)
class Timer:
    """One pending call; `cancel()` keeps it from running."""

    when: datetime
    seq: int
    fn: Callable[[], object] = field(compare=False)
    name: str = field(default="", compare=False)
    quiet: bool = field(default=False, compare=False)
    lane: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


def iso(moment: datetime) -> str:
    """`2026-12-01T08:45:47.123456+00:00`."""
    return moment.astimezone(UTC).isoformat()


class LocalClock:
    """System time (or a frozen start, in manual mode) + an offset, with timers; thread-safe."""

    def __init__(
        self,
        mode: Mode = "real",
        start: datetime | None = None,
        system: Callable[[], datetime] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode: Mode = mode
        self._system = system or (lambda: datetime.now(UTC))
        began = start or self._system()
        if began.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._frozen = began.astimezone(UTC)
        self._offset = timedelta(0) if mode == "manual" or start is None else began - self._system()
        self._cond = threading.Condition(threading.Lock())
        self._run = threading.Lock()  # one timer (or one advance) at a time
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._advancing: int | None = None
        self._advances = itertools.count(1)
        self._activity = 0  # timers run that were not quiet (see `activity`)
        self._ran = 0
        self._thread: threading.Thread | None = None
        self._lanes: dict[str, _Lane] = {}
        self._stopping = False

    # -- reading -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        with self._cond:
            return self._now()

    def _now(self) -> datetime:
        base = self._frozen if self.mode == "manual" else self._system()
        return base + self._offset

    @property
    def advancing(self) -> int | None:
        """The id of the advance in progress (each `advance()` gets a new one), else None."""
        with self._cond:
            return self._advancing

    @property
    def activity(self) -> int:
        """How many non-quiet timers have run so far (a scheduler skipping idle ticks checks
        that nothing else happened since its last run)."""
        with self._cond:
            return self._activity

    @property
    def timers_run(self) -> int:
        with self._cond:
            return self._ran

    def pending(self) -> list[tuple[datetime, str]]:
        """The timers still to run, earliest first: (when, name)."""
        with self._cond:
            return [(t.when, t.name) for t in sorted(self._timers) if not t.cancelled]

    # -- timers --------------------------------------------------------------------------------

    def call_at(
        self,
        when: datetime,
        fn: Callable[[], object],
        name: str = "",
        quiet: bool = False,
        lane: str = "",
    ) -> Timer:
        """Run `fn` once the clock reaches `when` (at once, in the background, when it already
        has), on `lane`. `quiet` timers do not count as `activity`."""
        if when.tzinfo is None:
            raise ValueError("when must be timezone-aware")
        with self._cond:
            timer = Timer(when.astimezone(UTC), next(self._seq), fn, name or _name(fn), quiet, lane)
            heapq.heappush(self._timers, timer)
            self._cond.notify_all()
        return timer

    def call_later(
        self,
        seconds: float,
        fn: Callable[[], object],
        name: str = "",
        quiet: bool = False,
        lane: str = "",
    ) -> Timer:
        return self.call_at(self.now() + timedelta(seconds=seconds), fn, name, quiet, lane)

    def every(
        self,
        seconds: float,
        fn: Callable[[datetime], object],
        first: datetime | None = None,
        name: str = "",
    ) -> Cancellable:
        """A recurring timer: `fn(tick_time)` at `first` (default now + seconds), then every
        `seconds` after the previous tick's time. The handle's `cancel()` ends it."""
        if not seconds > 0:
            raise ValueError("seconds must be positive")
        return _Recurring(self, seconds, fn, first or self.now() + timedelta(seconds=seconds), name)

    # -- moving time ---------------------------------------------------------------------------

    def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds`, running every timer that falls due, in time order; the
        new time. Not to be called from a timer."""
        if isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        with self._run:
            with self._cond:
                self._advancing = next(self._advances)  # the background gives out no more
                lanes = list(self._lanes.values())
            for lane in lanes:
                lane.drain()  # what the lanes were given runs first: it fell due earlier
            with self._cond:
                target = self._now() + timedelta(seconds=seconds)
            try:
                while True:
                    with self._cond:
                        timer = self._pop_due(target)
                        if timer is None:
                            self._step_to(target)
                            break
                        self._step_to(timer.when)
                    self._execute(timer)
            finally:
                with self._cond:
                    self._advancing = None
                    self._cond.notify_all()
            return self.now()

    def _step_to(self, when: datetime) -> None:
        """Move the offset so that now >= `when` (never backwards); lock held."""
        gap = when - self._now()
        if gap > timedelta(0):
            self._offset += gap

    def _pop_due(self, limit: datetime) -> Timer | None:
        """The earliest uncancelled timer due at or before `limit`, removed; lock held."""
        while self._timers:
            head = self._timers[0]
            if head.cancelled:
                heapq.heappop(self._timers)
                continue
            if head.when > limit:
                return None
            return heapq.heappop(self._timers)
        return None

    def _execute(self, timer: Timer) -> None:
        with self._cond:
            self._ran += 1
            if not timer.quiet:
                self._activity += 1
        try:
            timer.fn()
        except Exception:  # a failing timer is logged; the others still run
            sys.stderr.write(f"[clock] timer {timer.name} failed:\n{traceback.format_exc()}")

    # -- the background thread -----------------------------------------------------------------

    def start(self) -> None:
        """Run due timers in the background (at once in manual mode, as time passes in real)."""
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="local-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            thread, self._thread = self._thread, None
            lanes, self._lanes = list(self._lanes.values()), {}
            self._cond.notify_all()
        for lane in lanes:
            lane.stop()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _loop(self) -> None:
        """Hand each due timer to its lane (none while an advance runs)."""
        while True:
            with self._cond:
                while not self._stopping:
                    head = self._head()
                    if head is not None and self._advancing is None and head.when <= self._now():
                        break
                    wait = None
                    if head is not None and self.mode == "real" and self._advancing is None:
                        wait = max((head.when - self._now()).total_seconds(), 0.001)
                    self._cond.wait(wait)
                if self._stopping:
                    return
                timer = self._pop_due(self._now())
                if timer is None:
                    continue
                lane = self._lanes.get(timer.lane)
                if lane is None:
                    lane = self._lanes[timer.lane] = _Lane(self, timer.lane)
                lane.give(timer)  # under the lock: an advance starting now drains it first

    def _head(self) -> Timer | None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0] if self._timers else None

    def run_due(self) -> int:
        """Run the timers already due, now, on this thread (for clocks without a background
        thread, e.g. in unit tests); how many ran."""
        count = 0
        with self._run:
            while True:
                with self._cond:
                    timer = self._pop_due(self._now())
                if timer is None:
                    return count
                self._execute(timer)
                count += 1


class _Lane:
    """One background thread running its timers one at a time, in the order given."""

    def __init__(self, clock: LocalClock, name: str) -> None:
        self._clock = clock
        self._queue: queue.Queue[Timer | None] = queue.Queue()
        self._thread = threading.Thread(
            target=self._work, name=f"local-clock-{name or 'default'}", daemon=True
        )
        self._thread.start()

    def give(self, timer: Timer) -> None:
        self._queue.put(timer)

    def drain(self) -> None:
        """Until every timer given so far has run."""
        self._queue.join()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _work(self) -> None:
        while True:
            timer = self._queue.get()
            try:
                if timer is None:
                    return
                if not timer.cancelled:
                    self._clock._execute(timer)
            finally:
                self._queue.task_done()


class _Recurring:
    def __init__(
        self,
        clock: LocalClock,
        seconds: float,
        fn: Callable[[datetime], object],
        first: datetime,
        name: str,
    ) -> None:
        self._clock, self._seconds, self._fn, self._name = clock, seconds, fn, name or _name(fn)
        self._cancelled = False
        self._timer = self._arm(first)

    def _arm(self, when: datetime) -> Timer:
        return self._clock.call_at(when, lambda: self._tick(when), self._name)

    def _tick(self, when: datetime) -> None:
        if self._cancelled:
            return
        try:
            self._fn(when)
        finally:
            if not self._cancelled:
                self._timer = self._arm(when + timedelta(seconds=self._seconds))

    def cancel(self) -> None:
        self._cancelled = True
        self._timer.cancel()


def _name(fn: Callable[..., object]) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn))


def mode_from_env(value: str | None) -> Mode:
    """`PAYGATE_CLOCK`: ``manual`` or ``real`` (the default)."""
    text = (value or "real").strip().lower()
    if text not in MODES:
        raise ValueError(f"PAYGATE_CLOCK must be one of {', '.join(MODES)}, not {value!r}")
    return "manual" if text == "manual" else "real"


# -- HTTP: /_local/clock --------------------------------------------------------------------


def _answer(status: int, document: object) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(document).encode()


def _problem(status: int, field_name: str | None, message: str) -> tuple[int, str, bytes]:
    error: dict[str, str] = {"code": "invalid_request", "message": message}
    if field_name is not None:
        error["field"] = field_name
    return _answer(status, {"error": error})


def clock_route(clock: LocalClock) -> Callable[[str, bytes], tuple[int, str, bytes]]:
    """`GET /_local/clock` → 200 ``{"now"}``; `POST` ``{"advance_seconds": N}`` → 200 ``{"now"}``
    once everything due has run; a body that is not a JSON object → 400; a missing, non-number,
    negative, non-finite or too large `advance_seconds` → 422 naming the field."""

    def handle(method: str, body: bytes) -> tuple[int, str, bytes]:
        if method == "GET":
            return _answer(200, {"now": iso(clock.now()), "mode": clock.mode})
        if method != "POST":
            return _problem(405, None, "use GET or POST")
        try:
            document = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError):
            return _problem(400, None, "the body must be a JSON object")
        if not isinstance(document, dict):
            return _problem(400, None, "the body must be a JSON object")
        unknown = sorted(set(document) - {"advance_seconds"})
        if unknown:
            return _problem(422, unknown[0], f"unknown field {unknown[0]}")
        if "advance_seconds" not in document:
            return _problem(422, "advance_seconds", "advance_seconds is required")
        seconds = document["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            return _problem(422, "advance_seconds", "advance_seconds must be a number")
        if isinstance(seconds, float) and math.isnan(seconds):
            return _problem(422, "advance_seconds", "advance_seconds must be a number")
        if seconds < 0:
            return _problem(422, "advance_seconds", "advance_seconds must be >= 0")
        if seconds > MAX_ADVANCE_SECONDS:
            limit = int(MAX_ADVANCE_SECONDS)
            return _problem(422, "advance_seconds", f"advance_seconds must be <= {limit}")
        return _answer(200, {"now": iso(clock.advance(float(seconds))), "mode": clock.mode})

    return handle
