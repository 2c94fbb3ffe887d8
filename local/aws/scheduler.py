"""Runs the template's `Schedule` functions locally (EventBridge's part) on the local clock
(local/aws/clock.py): every `seconds` (`PAYGATE_SCHEDULE_SECONDS` when set, else the template's
rate) of the clock's time, with an EventBridge scheduled event whose ``time`` is the tick's.
With the manual clock (``PAYGATE_CLOCK=manual``) ticks happen only while a test advances the
clock; with the real one they also happen as real time passes.

Skipping idle ticks (an 11-day advance is 15,840 one-minute ticks): when the handler RETURNS a
dict with ``"next_due_at"`` (ISO-8601 of the earliest payment still waiting for a status query,
or null when none), the ticks that follow within the SAME advance run the handler only from the
first tick at or after ``next_due_at`` (never, when null); the ticks before it are no-ops. That
is only sound because everything that can make work due earlier is either

- outside an advance (a new payment or a merchant action through the API: each advance starts
  with the handler running at its first tick), or
- another timer on the clock (a sandbox's callback delivery or a provider-side expiry that
  reaches the gateway): when any non-quiet timer has run since the handler's last run, the next
  tick runs the handler again.

Outside an advance (real time passing in `make run`), or when the handler's answer has no
``next_due_at`` key, every tick runs the handler.

`after` (the local event source mappings' drain, local/aws/queues.py) runs after each run of
the handler: the reconcile dispatcher's messages are handled by the workers within its tick.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from local.aws.apigw import FakeLambdaContext
from local.aws.aws_calls import acting_as
from local.aws.clock import Cancellable, LocalClock
from local.aws.template import Schedule

Handler = Callable[[dict[str, Any], Any], Any]
# A run that reports `deferred` work runs again within its tick at most this often.
MAX_RERUNS_PER_TICK = 20


def scheduled_event(function_id: str, at: datetime | None = None) -> dict[str, Any]:
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "ap-southeast-1",
        "resources": [f"arn:aws:events:ap-southeast-1:123456789012:rule/{function_id}"],
        "detail": {},
    }


@dataclass
class _Idle:
    """The handler said nothing is due before `until` (None: nothing at all), during advance
    `advance`, when the clock's activity counter stood at `activity`."""

    advance: int
    activity: int
    until: datetime | None


def _deferred(result: Any) -> bool:
    """The answer says the run left due work undone at its deadline (`deferred` > 0)."""
    if not isinstance(result, dict):
        return False
    deferred = result.get("deferred")
    return isinstance(deferred, int) and not isinstance(deferred, bool) and deferred > 0


def _next_due(result: Any) -> tuple[bool, datetime | None]:
    """(whether the answer says when work is next due, that time or None)."""
    if not isinstance(result, dict) or "next_due_at" not in result:
        return False, None
    value = result["next_due_at"]
    if value is None:
        return True, None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False, None
    return True, moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Scheduler:
    """One schedule on the clock; `stop()` ends it."""

    def __init__(
        self,
        schedule: Schedule,
        handler: Handler,
        clock: LocalClock,
        seconds: float | None = None,
        after: Callable[[], object] | None = None,
        timeout_seconds: float = 25.0,
    ) -> None:
        self.schedule = schedule
        self.timeout_seconds = timeout_seconds  # the function's `Timeout`
        self.after = after  # run after each run of the handler (the queues it fills drain)
        self.handler = handler
        self.clock = clock
        self.seconds = seconds or schedule.seconds
        self.ticks = 0  # ticks reached
        self.runs = 0  # runs of the handler
        self.reruns = 0  # runs that went on with work a run deferred, within its tick
        self._idle: _Idle | None = None
        self._timer: Cancellable | None = None

    def start(self) -> None:
        if self._timer is None:
            first = self.clock.now() + timedelta(seconds=self.seconds)
            self._timer = self.clock.every(
                self.seconds, self._tick, first=first, name=f"schedule-{self.schedule.function_id}"
            )

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _skippable(self, at: datetime) -> bool:
        idle = self._idle
        if idle is None or idle.advance != self.clock.advancing:
            return False
        # The tick itself is a timer: activity counts it, so compare with one more.
        if self.clock.activity != idle.activity + 1:
            return False
        return idle.until is None or at < idle.until

    def _tick(self, at: datetime) -> None:
        self.ticks += 1
        if self._skippable(at):
            assert self._idle is not None
            self._idle.activity += 1  # this tick's own count
            return
        self._idle = None
        result = self._run(at)
        # The clock stands still while a tick runs (an advance, or the manual clock): a run
        # that stopped at its real-time deadline with work left took no time on the clock,
        # so it goes on within the tick, as a run with the time it had would have.
        reruns = 0
        while _deferred(result) and self._frozen() and reruns < MAX_RERUNS_PER_TICK:
            reruns += 1
            self.reruns += 1
            result = self._run(at)
        known, until = _next_due(result)
        advance = self.clock.advancing
        if known and advance is not None:
            self._idle = _Idle(advance, self.clock.activity, until)

    def _frozen(self) -> bool:
        return self.clock.mode == "manual" or self.clock.advancing is not None

    def _run(self, at: datetime) -> Any:
        """One run of the handler at tick time `at`, then `after`; its answer (None when it
        raised: logged, like Lambda, and the next tick runs)."""
        self.runs += 1
        function_id = self.schedule.function_id
        try:
            with acting_as(function_id):
                return self.handler(
                    scheduled_event(function_id, at),
                    FakeLambdaContext(function_id, timeout_seconds=self.timeout_seconds),
                )
        except Exception as exc:
            print(f"[schedule] {function_id} failed: {exc!r}", file=sys.stderr)
            return None
        finally:
            if self.after is not None:
                self.after()
