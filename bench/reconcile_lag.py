"""Reconciliation lag, simulated on the real settle code and a simulated clock.

The settling of every payment (what is queried, applied, expired, rescheduled and when) is
`paygate.reconcile.Reconciler` with the real `paygate.ledger.Ledger`, lifecycle policy and
state machine, over an in-memory table (`MemoryTable`, the repository's reconcile methods);
only the providers and the AWS engines around the code are modelled, in simulated time:

- load: `payments_per_day` with a `peak` factor (5,000,000 a day, 3x: 174 creates/s), sampled
  at `scale` (1/50: 3.5 creates/s), the providers in equal shares. 70 % of payins are paid
  20 s - 5 min after their create (the webhook arrives 2 s later), 30 % are abandoned (queried
  at 1, 3, 7, 15 and 30 minutes, then expired, then the expiry's tail); the tails of payments
  that expired before the sample (72 h of them) are a background of tail queries at the rate
  they reach in steady state. A sample is `warmup` (so that 30-minute windows are full) plus
  `measured` seconds; lag counts only queries due in the measured part.
- providers answer a status query in 0.3 - 1.0 s (uniform); a provider that is down answers
  nothing: the query ends at the client's connect + read timeouts (its webhooks wait too).
- the fan-out (`paygate.dispatch`): a dispatcher run every 60 s leases every due payment
  (one conditional write each, `DISPATCH_WRITE_SECONDS`, 17 partitions in parallel) and sends
  it to its provider's queue; each queue has `max_concurrency` workers (scaled), each taking up
  to 10 messages at once and settling them in parallel; a payment's settle ends at its
  query's answer plus two writes (claim, reschedule).
- today's loop: one run a minute, up to 100 due payments oldest first, one query after
  another, no new query within 5 s of the 60 s timeout (the deadline margin and
  `SECONDS_PER_PAYMENT`).

Lag is a query's due time (its `reconcile_at`) to the end of its settle.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from paygate.dispatch import QUERY_CONNECT_TIMEOUT_SECONDS, QUERY_READ_TIMEOUT_SECONDS
from paygate.domain import (
    Cause,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
)
from paygate.errors import ConcurrentUpdate, ProviderTimeout
from paygate.ledger import Ledger
from paygate.lifecycle import LifecyclePolicy, Observation
from paygate.reconcile import Reconciler
from paygate.shards import RECONCILE_DUE_SHARDS
from paygate.table_items import FIRST_RECONCILE_AFTER
from paygate.transition import Transition, in_schedule

START = datetime(2026, 12, 11, 12, 0, tzinfo=UTC)  # a sale day's peak hour
METHODS = {
    Provider.PAYPRO: Method.VIETQR,
    Provider.SMARTGLOCAL: Method.EWALLET,
    Provider.ECOMMPAY: Method.BANK_TRANSFER,
    Provider.MONETIX: Method.BANK_TRANSFER,
}
DISPATCH_WRITE_SECONDS = 0.005  # one lease (UpdateItem) per payment
DISPATCH_SEND_SECONDS = 0.001  # a tenth of a SendMessageBatch call (10 ms)
DISPATCH_SECONDS = 55.0  # a run's deadline budget for leasing (60 s timeout, 5 s reserve)
WRITE_SECONDS = 0.01  # a worker's claim, then the settle's reschedule or status write
POLL_SECONDS = 0.5  # an SQS poller hands a new message to a free worker
BATCH = 10


@dataclass(frozen=True)
class Scenario:
    payments_per_day: int = 5_000_000
    peak: float = 3.0
    scale: float = 1 / 50
    warmup: float = 40 * 60.0
    measured: float = 30 * 60.0
    paid_share: float = 0.7
    down: Provider | None = Provider.SMARTGLOCAL
    down_from: float = 50 * 60.0  # seconds after the start (10 minutes into the measured part)
    down_for: float = 10 * 60.0
    fast: float = 0.3
    slow: float = 1.0
    # A silent provider holds a query for the client's connect + read timeouts: the workers'
    # own (`paygate.dispatch`), today's loop the functions' defaults (3 + 10 s).
    timeout: float = QUERY_CONNECT_TIMEOUT_SECONDS + QUERY_READ_TIMEOUT_SECONDS
    today_timeout: float = 3.0 + 10.0
    max_concurrency: int = 100  # per provider queue, before scaling
    tail_queries_per_abandoned: float = 14.0  # the expiry's tail after the sample's first hour
    shards: int = RECONCILE_DUE_SHARDS  # the dispatcher reads shards + 1 partitions at once
    seed: int = 7

    @property
    def creates_per_second(self) -> float:
        return self.payments_per_day / 86_400 * self.peak * self.scale

    @property
    def workers(self) -> int:
        return max(1, round(self.max_concurrency * self.scale))

    def is_down(self, provider: Provider, at: float) -> bool:
        return provider is self.down and self.down_from <= at < self.down_from + self.down_for


class SimClock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> datetime:
        return START + timedelta(seconds=self.seconds)


class MemoryTable:
    """What the reconcile path needs of `paygate.repository.PaymentRepository`, in memory: the
    items, their conditional writes on `version`, and the sparse schedule (a heap)."""

    def __init__(self) -> None:
        self.items: dict[str, Payment] = {}
        self.schedule: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self.writes = 0

    @staticmethod
    def due_time(payment: Payment) -> datetime | None:
        if not in_schedule(payment):
            return None
        return payment.reconcile_at or payment.created_at + FIRST_RECONCILE_AFTER

    def _put(self, payment: Payment) -> None:
        self.items[payment.id] = payment
        self.writes += 1
        due = self.due_time(payment)
        if due is not None:
            heapq.heappush(self.schedule, (due, next(self._seq), payment.id))

    def create(self, payment: Payment) -> None:
        self._put(payment)

    def get(self, payment_id: str) -> Payment | None:
        return self.items.get(payment_id)

    def save_change(self, previous: Payment, transition: Transition, now: datetime) -> Payment:
        if self.items[previous.id].version != previous.version:
            raise ConcurrentUpdate(f"payment {previous.id} changed meanwhile")
        changed = transition.applied_to(previous, now)
        self._put(changed)
        return changed

    def reschedule(
        self,
        payment: Payment,
        at: datetime,
        attempts: int,
        not_found_since: datetime | None = None,
    ) -> bool:
        if self.items[payment.id].version != payment.version:
            return False
        update = {
            "reconcile_at": at,
            "reconcile_attempts": attempts,
            "reconcile_not_found_since": not_found_since,
        }
        self._put(payment.model_copy(update=update))
        return True

    def end_schedule(self, payment: Payment) -> bool:
        if self.items[payment.id].version != payment.version:
            return False
        self.items[payment.id] = payment.model_copy(update={"reconcile_at": None})
        self.writes += 1
        return True

    def requeue(self, payment_id: str, due: datetime) -> None:
        """A due payment a run did not get to stays due."""
        heapq.heappush(self.schedule, (due, next(self._seq), payment_id))

    def pop_due(self, now: datetime, limit: int | None = None) -> list[tuple[Payment, datetime]]:
        """The payments due at `now`, earliest first, each with its due time, taken out of
        the schedule (leased: a settle puts them back)."""
        found: list[tuple[Payment, datetime]] = []
        while self.schedule and self.schedule[0][0] <= now:
            if limit is not None and len(found) >= limit:
                break
            due, _, payment_id = heapq.heappop(self.schedule)
            payment = self.items[payment_id]
            if self.due_time(payment) != due:  # an older entry: the item moved on
                continue
            found.append((payment, due))
        return found


@dataclass
class Result:
    lags: list[tuple[float, Provider, float]] = field(
        default_factory=list
    )  # (due s, provider, lag)
    settled: int = 0
    settled_at: list[float] = field(default_factory=list)  # simulated seconds of each settle
    expired: int = 0
    provider_queries: int = 0

    def measured(self, since: float, provider: Provider | None = None) -> list[float]:
        return sorted(
            lag for due, p, lag in self.lags if due >= since and (provider is None or p is provider)
        )

    def between(self, start: float, end: float, provider: Provider) -> list[float]:
        return sorted(lag for due, p, lag in self.lags if start <= due < end and p is provider)


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


class Simulation:
    """One scenario through either engine (`fanout` or `today`)."""

    def __init__(self, scenario: Scenario, engine: str) -> None:
        self.scenario = scenario
        self.engine = engine
        self.random = random.Random(scenario.seed)
        self.clock = SimClock()
        self.table = MemoryTable()
        ledger = Ledger(self.table, clock=self.clock)  # type: ignore[arg-type]
        self.paid_at: dict[str, float] = {}
        observers = {provider: self._observe for provider in Provider}
        self.reconciler = Reconciler(ledger, observers, LifecyclePolicy(), clock=self.clock)
        self.ledger = ledger
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.result = Result()
        # The fan-out's queues: one per provider, or (`shared`) one for all with as many
        # workers as the four have together.
        self.queues: dict[str, deque[tuple[float, str, datetime, Provider]]] = defaultdict(deque)
        lanes = ["all"] if engine == "shared" else [p.value for p in Provider]
        workers = scenario.workers * (len(Provider) if engine == "shared" else 1)
        self.free: dict[str, int] = dict.fromkeys(lanes, workers)
        self.due_of: dict[str, datetime] = {}
        self.end = scenario.warmup + scenario.measured

    # -- the modelled provider ------------------------------------------------------------

    def _observe(self, payment: Payment) -> Observation:
        self.result.provider_queries += 1
        if self.scenario.is_down(payment.provider, self.clock.seconds):
            raise ProviderTimeout(f"{payment.provider.value} did not answer")
        paid = self.paid_at.get(payment.id)
        if paid is not None and paid <= self.clock.seconds and not payment.status.is_terminal:
            update = ProviderUpdate(status=PaymentStatus.SUCCEEDED)
            return Observation(self.ledger.apply(payment, update, Cause.RECONCILIATION), update)
        return Observation(payment)

    def _latency(self, provider: Provider, at: float) -> float:
        if self.scenario.is_down(provider, at):
            return self.scenario.today_timeout if self.engine == "today" else self.scenario.timeout
        return self.random.uniform(self.scenario.fast, self.scenario.slow)

    # -- events ---------------------------------------------------------------------------

    def at(self, seconds: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (seconds, next(self._seq), action))

    def run(self) -> Result:
        self._load()
        if self.engine in ("fanout", "shared"):
            tick = 60.0
            while tick <= self.end + 300:
                self.at(tick, self._dispatch)
                tick += 60.0
        else:
            tick = 60.0
            while tick <= self.end + 300:
                self.at(tick, self._today)
                tick += 60.0
        final = self.end + 300
        while self.events:
            seconds, _, action = heapq.heappop(self.events)
            if seconds > final:
                break
            self.clock.seconds = seconds
            action()
        # Still due or queued at the end: their lag is at least the time they have waited.
        limit = START + timedelta(seconds=final)
        waiting: dict[str, datetime] = {}
        for due, _, payment_id in self.table.schedule:
            if due <= limit and self.table.due_time(self.table.items[payment_id]) == due:
                waiting[payment_id] = due
        for queue in self.queues.values():
            waiting.update((payment_id, due) for _, payment_id, due, _ in queue)
        for payment_id, due in waiting.items():
            due_seconds = (due - START).total_seconds()
            provider = self.table.items[payment_id].provider
            self.result.lags.append((due_seconds, provider, final - due_seconds))
        return self.result

    def _load(self) -> None:
        scenario = self.scenario
        rate = scenario.creates_per_second
        providers = list(Provider)
        t, index = 0.0, 0
        while t < self.end:
            t += self.random.expovariate(rate)
            provider = providers[index % len(providers)]
            payment_id = f"pay_{index:07d}"
            index += 1
            self.at(t, partial(self._create, payment_id, provider))
            if self.random.random() < scenario.paid_share:
                paid = t + self.random.uniform(20, 300)
                self.paid_at[payment_id] = paid
                self.at(paid + 2, partial(self._webhook, payment_id))
        # The tails of earlier expiries, due at their steady-state rate through the sample.
        abandoned = scenario.payments_per_day / 86_400 * (1 - scenario.paid_share) * scenario.scale
        tail_rate = abandoned * scenario.tail_queries_per_abandoned * 1.0
        t, index = 0.0, 0
        while t < self.end:
            t += self.random.expovariate(tail_rate)
            self._seed_tail(f"tail_{index:07d}", providers[index % len(providers)], t)
            index += 1

    def _payment(self, payment_id: str, provider: Provider, created: datetime) -> Payment:
        status = (
            PaymentStatus.REQUIRES_ACTION
            if provider is Provider.SMARTGLOCAL
            else PaymentStatus.PENDING
        )
        return Payment(
            id=payment_id,
            provider=provider,
            method=METHODS[provider],
            status=status,
            amount=50_000,
            merchant_reference=payment_id,
            provider_reference=f"ref-{payment_id}",
            created_at=created,
            updated_at=created,
        )

    def _create(self, payment_id: str, provider: Provider) -> None:
        self.table.create(self._payment(payment_id, provider, self.clock()))

    def _seed_tail(self, payment_id: str, provider: Provider, due: float) -> None:
        created = START - timedelta(hours=6)
        expired = self._payment(payment_id, provider, created).model_copy(
            update={
                "status": PaymentStatus.EXPIRED,
                "reconcile_at": START + timedelta(seconds=due),
                "reconcile_attempts": 6,
            }
        )
        self.table.create(expired)

    def _webhook(self, payment_id: str) -> None:
        payment = self.table.get(payment_id)
        if payment is None or payment.status.is_terminal:
            return
        if self.scenario.is_down(payment.provider, self.clock.seconds):  # sent after it
            self.at(
                self.scenario.down_from + self.scenario.down_for, lambda: self._webhook(payment_id)
            )
            return
        self.ledger.apply(payment, ProviderUpdate(status=PaymentStatus.SUCCEEDED), Cause.WEBHOOK)

    def _settle(self, payment_id: str, due: datetime) -> None:
        payment = self.table.get(payment_id)
        assert payment is not None
        report = self.reconciler.settle_leased(payment)
        self.result.settled += 1
        self.result.settled_at.append(self.clock.seconds)
        self.result.expired += report.expired
        due_seconds = (due - START).total_seconds()
        lag = self.clock.seconds - due_seconds
        self.result.lags.append((due_seconds, payment.provider, lag))

    # -- the fan-out ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        """One dispatcher run at full scale: the sample's payments stand for 1/scale times as
        many, leased and sent by one thread per partition; what does not fit in the run's
        budget stays due for the next run."""
        now = self.clock.seconds
        due = self.table.pop_due(self.clock())
        threads = self.scenario.shards + 1
        each = DISPATCH_WRITE_SECONDS + DISPATCH_SEND_SECONDS
        for index, (payment, due_at) in enumerate(due):
            spent = (int(index / self.scenario.scale) // threads + 1) * each
            if spent > DISPATCH_SECONDS:
                self.table.requeue(payment.id, due_at)
                continue
            lane = "all" if self.engine == "shared" else payment.provider.value
            self.queues[lane].append((now + spent, payment.id, due_at, payment.provider))
        for lane in self.free:
            self._start_workers(lane)

    def _start_workers(self, lane: str) -> None:
        queue = self.queues[lane]
        now = self.clock.seconds
        while self.free[lane] and queue and queue[0][0] <= now + POLL_SECONDS:
            batch = [queue.popleft() for _ in range(min(BATCH, len(queue)))]
            self.free[lane] -= 1
            start = max(now, batch[-1][0]) + POLL_SECONDS
            ends = []
            for _, payment_id, due_at, provider in batch:
                done = start + WRITE_SECONDS + self._latency(provider, start) + WRITE_SECONDS
                ends.append(done)
                self.at(done, partial(self._settle, payment_id, due_at))
            self.at(max(ends), partial(self._worker_free, lane))
        if queue and self.free[lane]:  # messages not ready yet (the dispatcher's writes)
            self.at(queue[0][0], partial(self._start_workers, lane))

    def _worker_free(self, lane: str) -> None:
        self.free[lane] += 1
        self._start_workers(lane)

    # -- today's loop ---------------------------------------------------------------------

    def _today(self) -> None:
        tick = self.clock.seconds
        spent = 0.0
        for payment, due_at in self.table.pop_due(self.clock(), limit=100):
            if spent > 60.0 - 3.0 - 2.0:  # deadline margin, SECONDS_PER_PAYMENT: stays due
                self.table.requeue(payment.id, due_at)
                continue
            spent += WRITE_SECONDS + self._latency(payment.provider, tick + spent) + WRITE_SECONDS
            self.clock.seconds = tick + spent
            self._settle(payment.id, due_at)
        self.clock.seconds = tick


def summary(result: Result, scenario: Scenario) -> dict[str, Any]:
    since = scenario.warmup
    healthy = [p for p in Provider if p is not scenario.down]
    out: dict[str, Any] = {
        "settled": result.settled,
        "settled_measured": len(result.measured(since)),  # queries due in the measured part
        "lag_p99_s": round(p99(result.measured(since)), 1),
        "lag_max_s": round(max(result.measured(since), default=0.0), 1),
        "by_provider_p99_s": {p.value: round(p99(result.measured(since, p)), 1) for p in Provider},
    }
    if scenario.down is not None:
        start, end = scenario.down_from, scenario.down_from + scenario.down_for
        out["healthy_during_outage_p99_s"] = {
            p.value: round(p99(result.between(start, end, p)), 1) for p in healthy
        }
        out["healthy_outside_outage_p99_s"] = {
            p.value: round(
                p99(
                    result.between(since, start, p)
                    + result.between(end, since + scenario.measured, p)
                ),
                1,
            )
            for p in healthy
        }
    return out


def simulate(engine: str, scenario: Scenario | None = None) -> dict[str, Any]:
    chosen = scenario or Scenario()
    return summary(Simulation(chosen, engine).run(), chosen)


class Backlog(Simulation):
    """`backlog` payments all due at the first dispatcher run, nothing else; providers healthy."""

    def __init__(self, engine: str, workers: int, backlog: int, seconds: float) -> None:
        scenario = Scenario(scale=1.0, max_concurrency=workers, down=None, warmup=0.0)
        super().__init__(replace(scenario, measured=seconds), engine)
        self.backlog = backlog

    def _load(self) -> None:
        providers = list(Provider)
        created = START - timedelta(minutes=2)
        for index in range(self.backlog):
            provider = providers[index % len(providers)]
            self.table.create(self._payment(f"pay_{index:07d}", provider, created))


def throughput(engine: str, workers: int, backlog: int, seconds: float = 120.0) -> float:
    """Status queries settled per minute in the `seconds` after the first dispatcher run (or
    sequential run), with `backlog` payments due (`workers` per provider queue)."""
    result = Backlog(engine, workers, backlog, seconds).run()
    first = 60.0
    done = sum(1 for at in result.settled_at if first <= at < first + seconds)
    return round(done / seconds * 60, 1)
