"""The local runtime's clock (local/aws/clock.py), its HTTP route, the scheduler's idle-tick rule
(local/aws/scheduler.py) and the sandboxes' retry schedules (local/sandboxes/outbox.py): simulated
time only, nothing sleeps."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.aws.clock import LocalClock, clock_route, mode_from_env
from local.aws.scheduler import MAX_RERUNS_PER_TICK, Scheduler
from local.aws.template import Schedule, load_template
from local.sandboxes.outbox import (
    PAYPRO_NOTIFY_DELAYS,
    Delivery,
    Outbox,
    delays,
    platform_interval,
    platform_retry_after,
)

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def manual() -> LocalClock:
    return LocalClock("manual", start=START)


def test_manual_time_stands_still_until_advanced() -> None:
    clock = manual()
    assert clock.now() == START
    assert clock.now() == START
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.now() == START + timedelta(seconds=90)
    assert clock.now().tzinfo is not None


def test_real_time_is_the_system_time_plus_the_offset() -> None:
    system = [START]
    clock = LocalClock("real", system=lambda: system[0])
    assert clock.now() == START
    system[0] = START + timedelta(seconds=5)
    assert clock.now() == START + timedelta(seconds=5)
    clock.advance(3600)
    assert clock.now() == START + timedelta(seconds=3605)
    system[0] = START + timedelta(seconds=6)
    assert clock.now() == START + timedelta(seconds=3606)


def test_timers_run_in_time_order_at_their_own_time() -> None:
    clock = manual()
    seen: list[tuple[str, datetime]] = []
    for name, seconds in (("c", 30), ("a", 10), ("b", 20), ("late", 100)):
        clock.call_later(seconds, lambda n=name: seen.append((n, clock.now())))
    clock.advance(60)
    assert seen == [
        ("a", START + timedelta(seconds=10)),
        ("b", START + timedelta(seconds=20)),
        ("c", START + timedelta(seconds=30)),
    ]
    assert clock.now() == START + timedelta(seconds=60)
    assert [when for when, _ in clock.pending()] == [START + timedelta(seconds=100)]
    clock.advance(40)
    assert seen[-1] == ("late", START + timedelta(seconds=100))


def test_ties_run_in_the_order_they_were_set() -> None:
    clock = manual()
    seen: list[int] = []
    for number in range(5):
        clock.call_later(1, lambda n=number: seen.append(n))
    clock.advance(1)
    assert seen == [0, 1, 2, 3, 4]


def test_timers_set_by_timers_run_within_the_same_advance() -> None:
    clock = manual()
    seen: list[datetime] = []

    def again() -> None:
        seen.append(clock.now())
        if len(seen) < 4:
            clock.call_later(10, again)

    clock.call_later(10, again)
    clock.advance(35)
    assert seen == [START + timedelta(seconds=s) for s in (10, 20, 30)]
    clock.advance(5)
    assert len(seen) == 4


def test_a_cancelled_timer_never_runs_and_a_failing_one_does_not_stop_the_rest() -> None:
    clock = manual()
    seen: list[str] = []
    clock.call_later(1, lambda: seen.append("cancelled")).cancel()

    def boom() -> None:
        raise RuntimeError("timer failure")

    clock.call_later(2, boom)
    clock.call_later(3, lambda: seen.append("after"))
    clock.advance(5)
    assert seen == ["after"]


def test_a_recurring_timer_ticks_at_each_period_of_simulated_time() -> None:
    clock = manual()
    ticks: list[datetime] = []
    handle = clock.every(60, ticks.append)
    clock.advance(11 * 86_400)
    assert len(ticks) == 11 * 1440
    assert ticks[0] == START + timedelta(minutes=1)
    assert ticks[-1] == START + timedelta(days=11)
    handle.cancel()
    clock.advance(600)
    assert len(ticks) == 11 * 1440


def test_due_timers_run_at_once_on_the_background_thread_in_manual_mode() -> None:
    clock = manual()
    clock.start()
    try:
        ran = threading.Event()
        later = threading.Event()
        clock.call_at(clock.now(), ran.set)
        clock.call_later(1, later.set)
        assert ran.wait(5)
        assert not later.wait(0.2)  # polling a negative: the manual clock never moves alone
        clock.advance(1)
        assert later.is_set()
    finally:
        clock.stop()


def test_real_mode_runs_timers_as_real_time_passes() -> None:
    clock = LocalClock("real")
    clock.start()
    try:
        ran = threading.Event()
        clock.call_later(0.05, ran.set)
        assert ran.wait(5)
    finally:
        clock.stop()


def test_bad_arguments_are_refused() -> None:
    clock = manual()
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            clock.advance(bad)
    with pytest.raises(ValueError):
        clock.call_at(datetime(2026, 12, 1), lambda: None)  # naive
    with pytest.raises(ValueError):
        LocalClock("sometimes")  # type: ignore[arg-type]
    assert mode_from_env(None) == "real"
    assert mode_from_env("MANUAL") == "manual"
    with pytest.raises(ValueError):
        mode_from_env("fast")


def _call(route: Any, method: str, body: Any) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, content_type, payload = route(method, raw)
    assert content_type == "application/json"
    return status, json.loads(payload)


def test_the_route_reads_and_advances_the_clock() -> None:
    clock = manual()
    route = clock_route(clock)
    status, body = _call(route, "GET", b"")
    assert (status, datetime.fromisoformat(body["now"])) == (200, START)
    status, body = _call(route, "POST", {"advance_seconds": 2.5})
    assert status == 200
    assert datetime.fromisoformat(body["now"]) == START + timedelta(seconds=2.5)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"not json", 400, None),
        ([1, 2], 400, None),
        ({}, 422, "advance_seconds"),
        ({"advance_seconds": -1}, 422, "advance_seconds"),
        ({"advance_seconds": "60"}, 422, "advance_seconds"),
        ({"advance_seconds": True}, 422, "advance_seconds"),
        ({"advance_seconds": None}, 422, "advance_seconds"),
        ({"advance_seconds": 10**400}, 422, "advance_seconds"),
        ({"advance_seconds": 1, "rewind": 5}, 422, "rewind"),
    ],
)
def test_the_route_refuses_bad_bodies_naming_the_field(
    body: Any, status: int, field: str | None
) -> None:
    clock = manual()
    answer_status, answer = _call(clock_route(clock), "POST", body)
    assert answer_status == status
    assert answer["error"].get("field") == field
    assert clock.now() == START


def test_nan_and_infinity_are_not_numbers_of_seconds() -> None:
    clock = manual()
    for text in (b'{"advance_seconds": NaN}', b'{"advance_seconds": Infinity}'):
        status, answer = _call(clock_route(clock), "POST", text)
        assert (status, answer["error"]["field"]) == (422, "advance_seconds")


# -- the scheduler on the clock ---------------------------------------------------------------


class _Reconcile:
    """A stand-in reconcile handler: answers `next_due_at` (or nothing) and counts its runs."""

    def __init__(self, clock: LocalClock, due: list[datetime | None] | None) -> None:
        self.clock = clock
        self.due = due  # None: the answer has no next_due_at key
        self.runs: list[datetime] = []
        self.event_times: list[str] = []

    def __call__(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        self.runs.append(self.clock.now())
        self.event_times.append(event["time"])
        if self.due is None:
            return {"queried": 0}
        upcoming = [d for d in self.due if d is not None and d > self.clock.now()]
        return {"next_due_at": min(upcoming).isoformat() if upcoming else None}


def test_the_schedule_runs_every_tick_without_next_due_at() -> None:
    clock = manual()
    handler = _Reconcile(clock, None)
    scheduler = Scheduler(Schedule("Reconcile", 60), handler, clock)
    scheduler.start()
    clock.advance(600)
    assert len(handler.runs) == 10
    assert handler.event_times[0] == (START + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_idle_ticks_are_skipped_until_next_due_at_within_an_advance() -> None:
    clock = manual()
    due = START + timedelta(hours=2, seconds=30)
    handler = _Reconcile(clock, [due])
    scheduler = Scheduler(Schedule("Reconcile", 60), handler, clock)
    scheduler.start()
    clock.advance(11 * 86_400)
    assert scheduler.ticks == 11 * 1440
    # the first tick, then the first tick at or after next_due_at (2:01), then idle for ever
    assert handler.runs == [START + timedelta(minutes=1), START + timedelta(hours=2, minutes=1)]
    # a new advance starts with a run (a payment may have been created in between)
    clock.advance(60)
    assert len(handler.runs) == 3


def test_another_timer_running_ends_the_skipping() -> None:
    clock = manual()
    handler = _Reconcile(clock, [])
    scheduler = Scheduler(Schedule("Reconcile", 60), handler, clock)
    scheduler.start()
    clock.call_later(30 * 60 + 5, lambda: None)  # a callback delivery, say, at 30:05
    clock.advance(3600)
    assert handler.runs == [START + timedelta(minutes=1), START + timedelta(minutes=31)]


def test_a_run_that_deferred_work_goes_on_within_its_tick_while_the_clock_stands_still() -> None:
    """A dispatcher run that stopped at its real-time deadline (`deferred`) took no time on
    the stopped clock: the scheduler runs it again at the same tick until it is done (bounded),
    and drains the queues after each run; the next tick runs as usual."""
    clock = manual()
    answers = iter([{"deferred": 3}, {"deferred": 1}, {"deferred": 0}, {"deferred": 0}])
    runs: list[str] = []
    drains: list[int] = []

    def dispatcher(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        runs.append(event["time"])
        return next(answers)

    scheduler = Scheduler(
        Schedule("Dispatch", 60), dispatcher, clock, after=lambda: drains.append(len(runs))
    )
    scheduler.start()
    clock.advance(60)
    first = (START + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert runs == [first, first, first]
    assert drains == [1, 2, 3]
    assert (scheduler.ticks, scheduler.reruns) == (1, 2)
    clock.advance(60)
    assert len(runs) == 4


def test_a_run_that_keeps_deferring_stops_at_the_bound() -> None:
    clock = manual()
    runs: list[datetime] = []

    def stuck(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
        runs.append(clock.now())
        return {"deferred": 1}

    Scheduler(Schedule("Dispatch", 60), stuck, clock).start()
    clock.advance(60)
    assert len(runs) == 1 + MAX_RERUNS_PER_TICK


def test_a_scheduled_run_starts_with_its_functions_timeout() -> None:
    """Lambda hands an invocation its function's `Timeout`: 60 s for the dispatcher, 30 s for
    the reconcile worker (the template's), not one figure for every function."""
    timeouts = {f.logical_id: f.timeout_seconds for f in load_template().functions()}
    assert timeouts["ReconcileDispatchFunction"] == 60
    assert timeouts["ReconcileFunction"] == 30
    assert timeouts["GetPaymentFunction"] == 25  # Globals
    clock = manual()
    remaining: list[int] = []

    def dispatcher(_event: dict[str, Any], context: Any) -> None:
        remaining.append(context.get_remaining_time_in_millis())

    Scheduler(Schedule("Dispatch", 60), dispatcher, clock, timeout_seconds=60).start()
    clock.advance(60)
    assert remaining == [60_000]


# -- the sandboxes' outbox and schedules --------------------------------------------------------


def test_the_paypro_notify_is_retried_at_the_documented_intervals() -> None:
    clock = manual()
    outbox = Outbox("test", delays(PAYPRO_NOTIFY_DELAYS), clock.now, clock)
    attempts: list[datetime] = []

    def refused(_unreachable: bool) -> bool:
        attempts.append(clock.now())
        return False

    delivery = outbox.submit(Delivery("notify", refused))
    clock.run_due()
    assert attempts == [START]
    clock.advance(2)
    assert len(attempts) == 2
    clock.advance(24 * 3600)
    offsets = [(a - START).total_seconds() for a in attempts]
    assert offsets == [0, 2, 7, 17, 47, 3647, 14447, 25247, 36047]
    assert delivery.gave_up and not delivery.delivered


def test_a_delivered_callback_is_not_retried_and_lost_ones_are_never_attempted() -> None:
    clock = manual()
    outbox = Outbox("test", platform_retry_after, clock.now, clock)
    results = iter([False, True])
    made: list[bool] = []

    def attempt(unreachable: bool) -> bool:
        made.append(unreachable)
        return next(results)

    delivery = outbox.submit(Delivery("cb", attempt))
    clock.run_due()
    clock.advance(11 * 86_400)
    assert delivery.delivered and delivery.attempts == 2
    outbox.set_callbacks("lost")
    lost = outbox.submit(Delivery("cb2", attempt))
    clock.advance(11 * 86_400)
    assert lost.lost and lost.attempts == 0 and lost.done.is_set()
    outbox.set_callbacks("unreachable")
    failing = outbox.submit(Delivery("cb3", lambda unreachable: not unreachable))
    clock.run_due()
    clock.advance(10)
    assert failing.attempts == 2 and not failing.delivered
    outbox.set_callbacks("deliver")
    clock.advance(10)
    assert failing.delivered and failing.attempts == 3


def test_the_platform_schedule() -> None:
    assert [platform_interval(n) for n in range(2, 7)] == [10.0] * 5
    assert platform_interval(7) == pytest.approx(70 + 10 * 1.12**3)
    assert all(platform_interval(n) <= 4 * 3600 for n in range(2, 121))
    assert platform_interval(120) == 4 * 3600
    elapsed, attempts = 0.0, 1
    while (wait := platform_retry_after(attempts, elapsed)) is not None:
        elapsed += wait
        attempts += 1
    assert attempts == 120
    assert elapsed <= 11 * 86_400


def test_lanes_run_side_by_side_in_the_background_and_an_advance_waits_for_them() -> None:
    clock = manual()
    clock.start()
    try:
        release = threading.Event()
        order: list[str] = []
        clock.call_at(clock.now(), lambda: (release.wait(5), order.append("slow")), lane="a")
        fast = threading.Event()
        clock.call_at(clock.now(), lambda: (order.append("fast"), fast.set()), lane="b")
        assert fast.wait(5)  # lane b did not wait for lane a's slow timer
        clock.call_later(1, lambda: order.append("due in 1 s"), lane="b")
        advancing = threading.Thread(target=clock.advance, args=(1,))
        advancing.start()
        assert order == ["fast"]  # the advance waits for lane a's given timer
        release.set()
        advancing.join(5)
        assert order == ["fast", "slow", "due in 1 s"]
    finally:
        clock.stop()
