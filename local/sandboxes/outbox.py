"""Every sandbox's callback outbox, on the clock it is given (`timing.Timers`): deliveries are
attempted one at a time in time order (ties in the order they were made; a failing callback
does not hold back later ones: each follows its own retry schedule), the first attempt at once,
the retries at the provider's documented schedule (the functions below). Delivered means the
sandbox's own success rule (HTTP 200; Paypro also wants the body ``OK``).

The sandboxes take the time and the timers as arguments (`now`, `timers`): they are witnesses
independent of the gateway and of the runtime, so they import neither. Without them a sandbox
runs its own real-time timers (`timing.RealTimers`).

Delivery faults (``callbacks`` setting of each sandbox's ``POST /_sandbox/settings``):
``deliver`` (normal), ``lost`` (a callback made while it is set is never attempted: no
attempts, never delivered), ``unreachable`` (attempts made while it is set fail without
reaching the gateway, as a connection error, and are retried on the schedule; switching back
to ``deliver`` lets the next scheduled retry through).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from local.sandboxes.timing import Cancellable, Now, RealTimers, Timers, system_now

CALLBACK_MODES = ("deliver", "lost", "unreachable")
UNREACHABLE = "ConnectError: gateway unreachable (sandbox fault)"

# Paypro notify (Paypro's "Payment Notify API" page): "8 notifications within
# 24 h at 2 s / 5 s / 10 s / 30 s / 1 h / 3 h / 3 h / 3 h", then nothing (use the queries).
# INFERRED: the first notify goes at once and these are the 8 retries' intervals, each after
# the previous attempt (9 attempts in all, the last about 10 h after the first).
PAYPRO_NOTIFY_DELAYS: tuple[float, ...] = (2, 5, 10, 30, 3600, 10800, 10800, 10800)
# Smart Glocal (its webhooks documentation): "resent at increasing intervals (up to 15 minutes
# apart); resending stops after 30 minutes". The intervals are this sandbox's ASSUMPTION: 1, 2, 4, 8
# and 15 minutes (retries at +1, +3, +7, +15 and +30 min; 6 attempts).
SMARTGLOCAL_WEBHOOK_DELAYS: tuple[float, ...] = (60, 120, 240, 480, 900)
SMARTGLOCAL_RESEND_WINDOW_SECONDS = 30 * 60
# ecommpay/Monetix platform (the platform's "Callbacks" pages).
PLATFORM_MAX_ATTEMPTS = 120
PLATFORM_WINDOW_SECONDS = 11 * 86_400
PLATFORM_MAX_INTERVAL_SECONDS = 4 * 3600

RetryAfter = Callable[[int, float], float | None]


def delays(schedule: tuple[float, ...], window_seconds: float | None = None) -> RetryAfter:
    """A fixed list of retry intervals: after attempt n, wait schedule[n-1]; then stop (also
    when the next attempt would come later than `window_seconds` after the first)."""

    def retry_after(attempts: int, elapsed: float) -> float | None:
        if attempts > len(schedule):
            return None
        wait = float(schedule[attempts - 1])
        if window_seconds is not None and elapsed + wait > window_seconds:
            return None
        return wait

    return retry_after


def platform_interval(attempt: int) -> float:
    """Seconds between attempt `attempt - 1` and attempt `attempt` (2..120) on the platform's
    documented schedule: "6 attempts every 10 s; then interval = 70 + 10·1.12^(n-4) seconds
    (n = attempt number) until it would exceed 4 h; then every 4 h". INFERRED: attempts 1-6
    are 10 s apart (the first at once), so n = 7 is the first of the growing intervals."""
    if attempt <= 6:
        return 10.0
    return min(70 + 10 * 1.12 ** (attempt - 4), float(PLATFORM_MAX_INTERVAL_SECONDS))


def platform_retry_after(attempts: int, elapsed: float) -> float | None:
    """At most 120 attempts, within 11 days of the first."""
    following = attempts + 1
    if following > PLATFORM_MAX_ATTEMPTS:
        return None
    wait = platform_interval(following)
    if elapsed + wait > PLATFORM_WINDOW_SECONDS:
        return None
    return wait


@dataclass
class Delivery:
    """One callback's delivery: its attempts are the sandbox's `attempt(unreachable)` calls."""

    name: str
    attempt: Callable[[bool], bool]  # makes one attempt (or records a failed one); delivered?
    first_real_delay: float = 0.0
    attempts: int = 0
    delivered: bool = False
    lost: bool = False
    gave_up: bool = False
    started_at: datetime | None = None
    first: threading.Event = field(default_factory=threading.Event)  # first attempt done
    done: threading.Event = field(default_factory=threading.Event)  # delivered, gave up, lost
    timer: Cancellable | None = None
    on_done: Callable[[Delivery], object] | None = None  # once delivered, given up or lost

    def wait_first(self, timeout: float) -> bool:
        """Whether the first attempt delivered (waits up to `timeout` real seconds for it)."""
        return self.first.wait(timeout) and self.delivered


class Outbox:
    """The sandbox's one outbox on `timers` (its time from `now`)."""

    def __init__(
        self,
        label: str,
        retry_after: RetryAfter,
        now: Now | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.label = label
        self.retry_after = retry_after
        self._own: RealTimers | None = None
        if timers is None:
            self._own = RealTimers()
            timers = self._own
        self.timers: Timers = timers
        self.now: Now = now or system_now
        self.callbacks = "deliver"
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._deliveries: dict[int, Delivery] = {}
        self._stopping = threading.Event()

    def start(self) -> None:
        if self._own is not None:
            self._own.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            pending = [self._deliveries[key] for key in self._pending]
        for delivery in pending:
            if delivery.timer is not None:
                delivery.timer.cancel()
            delivery.first.set()
            delivery.done.set()
        if self._own is not None:
            self._own.stop()

    def set_callbacks(self, mode: str) -> None:
        if mode not in CALLBACK_MODES:
            raise ValueError(f"callbacks must be one of {', '.join(CALLBACK_MODES)}")
        self.callbacks = mode

    def submit(self, delivery: Delivery) -> Delivery:
        """Queue the first attempt at once (or lose the callback, per the `callbacks` fault)."""
        if self.callbacks == "lost" or self._stopping.is_set():
            delivery.lost = self.callbacks == "lost"
            delivery.first.set()
            delivery.done.set()
            if delivery.lost:
                _log(self.label, f"{delivery.name} lost (sandbox fault): never sent")
            if delivery.on_done is not None:
                delivery.on_done(delivery)
            return delivery
        delivery.started_at = self.now()
        with self._lock:
            self._pending.add(id(delivery))
            self._deliveries[id(delivery)] = delivery
        delivery.timer = self.call_at(delivery.started_at, lambda: self._run(delivery))
        return delivery

    def _run(self, delivery: Delivery) -> None:
        if self._stopping.is_set():
            return
        if delivery.attempts == 0 and delivery.first_real_delay > 0:
            # Real time, not simulated: the caller first stores the answer that caused it.
            self._stopping.wait(delivery.first_real_delay)
        attempted_at = self.now()
        ok = delivery.attempt(self.callbacks == "unreachable")
        delivery.attempts += 1
        if ok:
            delivery.delivered = True
            self._finish(delivery)
            return
        delivery.first.set()
        assert delivery.started_at is not None
        elapsed = (attempted_at - delivery.started_at).total_seconds()
        wait = self.retry_after(delivery.attempts, elapsed)
        if wait is None:
            delivery.gave_up = True
            _log(self.label, f"{delivery.name} gave up after {delivery.attempts} attempt(s)")
            self._finish(delivery)
            return
        when = attempted_at + timedelta(seconds=wait)
        delivery.timer = self.call_at(when, lambda: self._run(delivery))

    def call_at(self, when: datetime, fn: Callable[[], object]) -> Cancellable:
        """A timer on the sandbox's own lane of the clock (its callbacks and lifetimes)."""
        return self.timers.call_at(when, fn, lane=self.label)

    def _finish(self, delivery: Delivery) -> None:
        with self._lock:
            self._pending.discard(id(delivery))
            self._deliveries.pop(id(delivery), None)
        delivery.first.set()
        delivery.done.set()
        if delivery.on_done is not None:
            delivery.on_done(delivery)


def _log(label: str, line: str) -> None:
    sys.stderr.write(f"[{label}] {line}\n")
    sys.stderr.flush()
