"""Key-rate simulation: the write (and read) units each partition key value of the payments
table and of every GSI takes per second at the target load, from the real key-building code
(`table_items.payment_document`, `transition_update`, `paygate.shards`), the template's
indexes and projections, and items of realistic size.

Target (docs/performance.md): 5,000,000 payments a day with a 3x peak (174 creates/s), 2,000
status changes/s, 868 status queries/s that find nothing new (five a payment; each a lease,
a claim and a reschedule), 2 reviews/s. Sampled:
`SECONDS` consecutive peak seconds, every event with its own payment id, the figure per key
being its busiest second. DynamoDB allows 1,000 WCU/s and 3,000 RCU/s per partition key
value; a key above half of either fails. The legacy keys (one `due` partition, `kind` and
`kind#status` partitions, every index projecting ALL) are run as the baseline that must
exceed it: the simulation can fail."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from bench.write_cost import item_size
from local.aws.template import load_template
from paygate import table_items
from paygate.api_requests import PayproPaymentRequest, PayproPayoutRequest
from paygate.domain import (
    Failure,
    Kind,
    Payment,
    PaymentStatus,
    PayoutDestination,
    Provider,
    ProviderUpdate,
    QrAction,
    Review,
    ReviewDecision,
    payment_for,
    payout_for,
)
from paygate.listing import ListFilters, ListIndexes, plan
from paygate.records import WebhookRecord
from paygate.repository import PaymentRepository, to_item
from paygate.shards import LEGACY_RECONCILE_DUE
from paygate.table_items import payment_document, transition_update
from paygate.transition import forward, reviewed

WCU_LIMIT = 1_000  # per partition key value per second
RCU_LIMIT = 3_000
SHARE = 0.5  # the most of either a key may take
SECONDS = 3
CREATES = 174  # 5,000,000 / 86,400 x 3
STATUS_CHANGES = 2_000
RESCHEDULES = 868  # five status queries per payment that find nothing new
REVIEWS = 2
PAYOUT_SHARE = 0.1
LIST_PAGES = 50  # list pages a second (consoles and merchant back offices), 100 items each
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
KB = 1024
READ_UNIT = 4 * KB


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # partition key first
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...] = ()

    def entry(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """The index entry of a typed item (None: not in this sparse index)."""
        if not all(key in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return item
        kept = {*self.keys, "pk", "sk", *self.included}
        return {name: value for name, value in item.items() if name in kept}


@dataclass
class Load:
    """Units per (index or table, partition key value) in one second."""

    writes: Counter[tuple[str, str]] = field(default_factory=Counter)
    reads: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))


def units(size: int, unit: int = KB) -> int:
    return max(1, math.ceil(size / unit))


def template_indexes() -> list[Index]:
    """The payments table's GSIs as the template deploys them with default parameters."""
    template = load_template()
    table = template.of_type("AWS::DynamoDB::Table")["PaymentsTable"]["Properties"]
    found = []
    for spec in template.resolved(table["GlobalSecondaryIndexes"]):
        projection = spec["Projection"]
        found.append(
            Index(
                spec["IndexName"],
                tuple(key["AttributeName"] for key in spec["KeySchema"]),
                projection["ProjectionType"],
                tuple(projection.get("NonKeyAttributes", ())),
            )
        )
    return found


# The indexes before sharding (template.yaml before issue 24): every one projecting ALL.
LEGACY_INDEXES = [
    Index("by_provider_reference", ("provider_ref",), "ALL"),
    Index("by_reconcile_due", ("reconcile_due", "reconcile_at"), "ALL"),
    Index("by_created", ("kind", "listed_at"), "ALL"),
    Index("by_reference", ("reference_key", "listed_at"), "ALL"),
    Index("by_status", ("status_key", "listed_at"), "ALL"),
    Index("by_payment", ("payment_id",), "ALL"),
]


def legacy_document(document: dict[str, Any]) -> dict[str, Any]:
    """An item as the legacy key functions wrote it: one reconcile partition."""
    if "reconcile_due" in document:
        document = document | {"reconcile_due": LEGACY_RECONCILE_DUE}
    return document


@dataclass(frozen=True)
class Design:
    name: str
    indexes: list[Index]
    document: Callable[[dict[str, Any]], dict[str, Any]]
    list_indexes: ListIndexes
    leases: bool  # status queries go through the fan-out's lease and claim


def sharded_design() -> Design:
    return Design("sharded", template_indexes(), lambda document: document, "sharded", True)


def legacy_design() -> Design:
    return Design("legacy", LEGACY_INDEXES, legacy_document, "legacy", False)


# -- realistic payments ------------------------------------------------------------------------

METADATA = {"order_id": "DH-2026-1207-000123", "customer_id": "KH-88812", "channel": "web"}
QR = QrAction(payment_link="https://checkout.paypro.vn/pay/PP2026120700001?sig=0f3a9c1e2b7d4a60")


# What a merchant sends for each kind (with `METADATA`), and where a payout goes.
ORDERS: dict[Kind, dict[str, Any]] = {
    Kind.PAYMENT: {"amount": 350_000, "merchant_reference": "DH-000000000",
                   "description": "Thanh toán đơn hàng DH-2026-1207"},
    Kind.PAYOUT: {"amount": 1_200_000, "merchant_reference": "PO-000000000",
                  "description": "Hoàn tiền đơn hàng", "account_name": "NGUYEN VAN A",
                  "bank_name": "Vietcombank", "bank_number": "0071000123456"},
}  # fmt: skip
DESTINATION = PayoutDestination(
    bank_name="Vietcombank", account_number="0071******456", account_name="NGUYEN VAN A"
)


@cache
def created(kind: Kind) -> Payment:
    """A new Paypro payin or payout, as its create records it."""
    order = ORDERS[kind] | {"metadata": METADATA}
    if kind is Kind.PAYOUT:
        return payout_for(Provider.PAYPRO, PayproPayoutRequest.model_validate(order), DESTINATION)
    return payment_for(Provider.PAYPRO, PayproPaymentRequest.model_validate(order))


def reached(payment: Payment, *moves: ProviderUpdate) -> Payment:
    for update in moves:
        payment = forward(payment.provider, update, payment.kind).applied_to(payment, NOW)
    return payment.model_copy(update={"reconcile_at": NOW + timedelta(seconds=60)})


QR_SHOWN = ProviderUpdate(
    status=PaymentStatus.REQUIRES_ACTION, next_action=QR, provider_reference="PP2026120700001"
)
PAID = ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=350_000, currency="VND")
SEEN = ProviderUpdate(status=PaymentStatus.PENDING)
EXPIRED = ProviderUpdate(
    status=PaymentStatus.EXPIRED, failure=Failure(code="expired", message="Hết hạn thanh toán")
)
DECLINED = ProviderUpdate(
    status=PaymentStatus.FAILED, failure=Failure(code="declined", message="Ngân hàng từ chối")
)
MOVING = ProviderUpdate(status=PaymentStatus.PROCESSING)
SENT = ProviderUpdate(status=PaymentStatus.PROCESSING, provider_reference="PPO2026120700001")
PAID_OUT = ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=1_200_000)


@cache
def lifecycle() -> list[tuple[float, Payment, ProviderUpdate]]:
    """The status changes' mix: (share, the payment before, what the provider reports)."""
    new = created(Kind.PAYMENT)
    accepted = reached(new, SEEN)
    waiting = reached(accepted, QR_SHOWN)
    moving = reached(waiting, MOVING)
    sent = reached(created(Kind.PAYOUT), SENT)
    return [
        (0.25, new, SEEN),
        (0.20, accepted, QR_SHOWN),
        (0.10, waiting, MOVING),
        (0.12, waiting, PAID),
        (0.08, moving, PAID),
        (0.12, waiting, EXPIRED),
        (0.03, waiting, DECLINED),
        (0.05, created(Kind.PAYOUT), SENT),
        (0.05, sent, PAID_OUT),
    ]


@cache
def rescheduled() -> Payment:
    """A payment waiting for its payer: each status query that finds no change reschedules."""
    return reached(created(Kind.PAYMENT), SEEN, QR_SHOWN)


@cache
def waiting_for_review() -> Payment:
    mismatch = ProviderUpdate(status=PaymentStatus.NEEDS_REVIEW)
    return reached(created(Kind.PAYMENT), SEEN, QR_SHOWN, mismatch)


REVIEW = Review(
    decision=ReviewDecision.ACCEPT,
    note="Khách chuyển đủ tiền, đã đối soát sao kê",
    reviewed_by="3f1c2a9e-0d5b-4c8e-9a51-7c6e2b1d0f44",
    reviewed_by_email="ketoan@merchant.example",
    reviewed_at=NOW,
)


# -- the simulation ----------------------------------------------------------------------------


class Simulation:
    def __init__(self, design: Design, scale: float = 1.0, seed: int = 24) -> None:
        self.design = design
        self.scale = scale
        self.random = random.Random(seed)
        self.numbers = iter(range(1, 10**9))
        webhook = WebhookRecord(
            provider=Provider.PAYPRO,
            dedupe_key="notify:PP2026120700001:SUCCESS:1733572800",
            payment_id="pay_20261207120000abcdef0123",
            outcome="applied",
            body={"orderNo": "pay_20261207120000abcdef0123", "status": "SUCCESS",
                  "amount": "350000", "bankCode": "VCB", "payerAccount": "00710****456",
                  "payerName": "NGUYEN V** A", "transTime": "20261207120001",
                  "sign": "****"},
        )  # fmt: skip
        put = PaymentRepository("t", timedelta(days=41))._webhook_put(webhook)["Item"]
        self.webhook_document = {name: next(iter(value.values())) for name, value in put.items()}
        self.webhook_size = item_size(put)
        self.sizes: dict[str, int] = {}

    def new_id(self, kind: Kind) -> str:
        prefix = "pay" if kind is Kind.PAYMENT else "po"
        return f"{prefix}_20261207120000{self.random.getrandbits(40):010x}"

    def document(self, payment: Payment) -> dict[str, Any]:
        return self.design.document(payment_document(payment))

    def size(self, document: dict[str, Any], shape: str) -> int:
        """The typed item's size in bytes, measured once per shape (the ids, references and
        times of this simulation have fixed widths: every item of a shape is as large)."""
        if shape not in self.sizes:
            self.sizes[shape] = item_size(to_item(document))
        return self.sizes[shape]

    def write(
        self,
        load: Load,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        sizes: tuple[int, int],
        transactional: bool = False,
    ) -> None:
        """One item write (untyped documents, their typed sizes) and what it does to every
        index, by DynamoDB's rules: the table charges the larger of the sizes (twice in a
        transaction); an index whose key is unchanged takes a write only when a projected
        attribute changed; a changed key is a delete from the old partition and a put into
        the new one. An index entry (keys and projected strings) is charged its own size."""
        both = [item for item in (before, after) if item is not None]
        pk = both[0]["pk"]
        charge = units(max(sizes)) * (2 if transactional else 1)
        load.writes[("table", pk)] += charge
        for index in self.design.indexes:
            old = index.entry(before) if before else None
            new = index.entry(after) if after else None
            partition = index.keys[0]
            if (
                old is not None
                and new is not None
                and all(old[key] == new[key] for key in index.keys)
            ):
                if old != new:
                    load.writes[(index.name, new[partition])] += self.entry_units(
                        index, new, sizes[1]
                    )
                continue
            if old is not None:
                load.writes[(index.name, old[partition])] += self.entry_units(index, old, sizes[0])
            if new is not None:
                load.writes[(index.name, new[partition])] += self.entry_units(index, new, sizes[1])

    @staticmethod
    def entry_bytes(entry: dict[str, Any]) -> int:
        """An index entry's size: its attributes' names and (string) values."""
        return sum(len(name) + len(str(value).encode()) for name, value in entry.items())

    def entry_units(self, index: Index, entry: dict[str, Any], item: int) -> int:
        return units(item if index.projection == "ALL" else self.entry_bytes(entry))

    def count(self, rate: float) -> int:
        return round(rate * self.scale)

    def fresh(self, state: Payment) -> Payment:
        """`state` as another payment: its own id, merchant and provider references."""
        number = next(self.numbers)
        update: dict[str, Any] = {
            "id": self.new_id(state.kind),
            "merchant_reference": f"DH-{number:09d}",
        }
        if state.provider_reference:
            update["provider_reference"] = f"PP{number:013d}"
        return state.model_copy(update=update)

    def second(self) -> Load:
        load = Load()
        for _ in range(self.count(CREATES)):
            kind = Kind.PAYOUT if self.random.random() < PAYOUT_SHARE else Kind.PAYMENT
            payment = self.fresh(created(kind))
            document = self.document(payment)
            self.write(load, None, document, (0, self.size(document, f"new {kind}")))
        shares = [share for share, _, _ in lifecycle()]
        for _ in range(self.count(STATUS_CHANGES)):
            choice = self.random.choices(range(len(shares)), weights=shares)[0]
            _, state, update = lifecycle()[choice]
            self.change(load, state, update, str(choice))
        for _ in range(self.count(REVIEWS)):
            self.change(load, waiting_for_review(), REVIEW, "review", webhook=False)
        for _ in range(self.count(RESCHEDULES)):
            self.status_query(load, self.fresh(rescheduled()))
        self.list_reads(load)
        return load

    def status_query(self, load: Load, state: Payment) -> None:
        """A status query that finds nothing new, as the fan-out makes it: the dispatcher's
        lease and the worker's claim (`PaymentRepository.lease`, `.claim`: each moves
        `reconcile_at`, the schedule index's sort key), then the reschedule."""
        document = self.document(state)
        lease = {"lease_id": "0f3a9c1e-2b7d-4a60-9e51-7c6e2b1d0f44", "lease_due": "x" * 27}
        steps: list[dict[str, Any]] = [
            {"reconcile_at": "2026-12-07T12:05:00.000000Z", "lease_until": "y" * 27, **lease},
            {"reconcile_at": "2026-12-07T12:06:00.000000Z", "claimed_until": "z" * 27},
            {"reconcile_at": "2026-12-07T12:07:00.000000Z", "reconcile_attempts": 2},
        ]
        if not self.design.leases:  # the sequential loop: the reschedule alone
            steps = steps[-1:]
        for number, step in enumerate(steps):
            after = document | step | {table_items.WRITTEN_BY: table_items.BY_SCHEDULE}
            sizes = (self.size(document, f"query {number}"), self.size(after, f"query {number}+"))
            self.write(load, document, after, sizes)
            document = after

    def change(
        self,
        load: Load,
        state: Payment,
        report: ProviderUpdate | Review,
        shape: str,
        webhook: bool = True,
    ) -> None:
        """A status change written in place (`transition_update`), with its webhook: a
        provider's report (its own provider reference) or a merchant's review."""
        before = self.fresh(state)
        if isinstance(report, Review):
            transition = reviewed(before, report)
        else:
            if report.provider_reference:
                report = report.model_copy(update={"provider_reference": f"R{before.id}"})
            transition = forward(before.provider, report, before.kind)
        assert transition.admits(before)
        after = transition.applied_to(before, NOW)
        update = transition_update(transition, NOW, before.kind, before.id)
        old, new = self.document(before), self.document(after)
        for attribute in (table_items.STATUS_KEY, table_items.STATUS_SHARD_KEY):
            assert update.values[f":{attribute}"] == new[attribute], attribute  # the same keys
        sizes = (self.size(old, f"{shape} before"), self.size(new, f"{shape} after"))
        self.write(load, old, new, sizes, transactional=webhook)
        if webhook:
            item = self.webhook_document | {"pk": f"WEBHOOK#paypro#{before.id}"}
            item["payment_id"] = before.id
            self.write(load, None, item, (0, self.webhook_size), transactional=True)

    def list_reads(self, load: Load) -> None:
        """List pages of 100 (the most), newest first and by status: each reads `limit + 1`
        entries from every partition of its index, eventually consistent."""
        for page in range(self.count(LIST_PAGES)):
            status = None if page % 2 else PaymentStatus.SUCCEEDED
            filters = ListFilters(status=status)
            pages = plan(Kind.PAYMENT, filters, 100, self.design.list_indexes)
            index = next(i for i in self.design.indexes if i.name == pages.index)
            document = self.document(created(Kind.PAYMENT))
            entry = index.entry(document) or {}
            size = self.size(document, "new payment")
            per_entry = size if index.projection == "ALL" else self.entry_bytes(entry)
            for partition in pages.partitions:
                load.reads[(index.name, partition)] += units(pages.reads * per_entry, READ_UNIT) / 2

    def run(self, seconds: int = SECONDS) -> Iterator[Load]:
        for _ in range(seconds):
            yield self.second()


def busiest(
    design: Design, scale: float = 1.0, seconds: int = SECONDS
) -> tuple[dict[str, int], dict[str, float]]:
    """The busiest partition key value of the table and of each index (WCU/s, RCU/s)."""
    writes: dict[str, int] = {}
    reads: dict[str, float] = {}
    for load in Simulation(design, scale).run(seconds):
        for (index, _), wcu in load.writes.items():
            writes[index] = max(writes.get(index, 0), wcu)
        for (index, _), rcu in load.reads.items():
            reads[index] = max(reads.get(index, 0.0), rcu)
    return writes, reads


def over_limit(writes: dict[str, int], reads: dict[str, float]) -> dict[str, str]:
    found = {name: f"{wcu} WCU/s" for name, wcu in writes.items() if wcu > SHARE * WCU_LIMIT}
    found |= {name: f"{rcu} RCU/s" for name, rcu in reads.items() if rcu > SHARE * RCU_LIMIT}
    return found


# -- the tests -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sharded() -> tuple[dict[str, int], dict[str, float]]:
    return busiest(sharded_design())


def test_no_partition_key_takes_more_than_half_its_limit_at_the_target(
    sharded: tuple[dict[str, int], dict[str, float]],
) -> None:
    writes, reads = sharded
    assert over_limit(writes, reads) == {}, (writes, reads)
    # Every index the template deploys was written or read in the simulation.
    assert {index.name for index in template_indexes()} <= {*writes, *reads} | {
        "by_provider_reference"
    }


def test_the_legacy_keys_exceed_half_the_limit_the_baseline_that_shows_it_can_fail() -> None:
    writes, reads = busiest(legacy_design(), seconds=1)
    hot = over_limit(writes, reads)
    assert {"by_reconcile_due", "by_status", "by_created"} <= set(hot), (writes, hot)


LIST_INDEXES = {
    table_items.BY_CREATED_SHARDED,
    table_items.BY_STATUS_SHARDED,
    table_items.BY_REFERENCE_KEYS,
}


@pytest.mark.parametrize(
    ("status_shards", "hot"),
    [(table_items.STATUS_SHARDS, set()), (table_items.STATUS_SHARDS // 2, {"by_status_shard"})],
    ids=["the-shards", "half-the-status-shards"],
)
def test_at_twice_the_target_the_list_keys_hold_but_not_with_half_the_status_shards(
    monkeypatch: pytest.MonkeyPatch, status_shards: int, hot: set[str]
) -> None:
    """The list shards' headroom: at twice the target none of their keys passes half its
    limit either, and why `STATUS_SHARDS` is what it is: the next smaller count fails there.
    (The schedule's `by_due`, with its leases, passes it: docs/performance.md.)"""
    monkeypatch.setattr(table_items, "STATUS_SHARDS", status_shards)
    writes, reads = busiest(sharded_design(), scale=2.0, seconds=2)
    assert set(over_limit(writes, reads)) - {"by_due"} == hot, (writes, reads)
    assert set(writes) >= LIST_INDEXES


def test_a_common_payment_item_is_under_one_kb_so_a_write_is_one_unit() -> None:
    for _, state, update in lifecycle():
        after = forward(state.provider, update, state.kind).applied_to(state, NOW)
        for payment in (state, after):
            assert item_size(to_item(payment_document(payment))) < KB, payment.status
