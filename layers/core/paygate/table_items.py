"""The payments table's item format, as plain documents (`paygate.repository`, the only module
that talks to DynamoDB, types and sends them): how values are stored, the payment item, and
the conditional write of a `Transition`."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic_core import to_jsonable_python

from paygate.domain import Kind, Payment, PaymentStatus, Provider
from paygate.shards import reconcile_due_partition, shard_of
from paygate.transition import SCHEDULE_FIELDS, Transition, in_schedule

# The sparse reconcile index's partition (`reconcile_due`) is `due#NN`, NN the payment's shard
# (`paygate.shards`); items written before sharding hold `due` until their next full write.
# A payment leased to a reconcile worker (`paygate.dispatch`): which lease, until when (also its
# `reconcile_at`, so the due query skips it), when it first fell due (the lag's start) and until
# when a worker holds it. Removed by the next reschedule or status change.
LEASE_FIELDS = ("lease_id", "lease_until", "lease_due", "claimed_until")
# Who wrote a payment item last: the ledger (a change the merchant sees: its stream record is
# published) or the reconcile schedule (no version bump: the stream filter drops it, so no
# `publish_status` invocation is spent on it).
WRITTEN_BY = "written_by"
BY_LEDGER = "ledger"
BY_SCHEDULE = "schedule"
# An erasure of personal data (`PaymentRepository.erase_personal`): no version bump, not published.
BY_ERASURE = "erasure"
FIRST_RECONCILE_AFTER = timedelta(seconds=60)
EMPTY_KEY = "<empty key>"


# The list indexes (`paygate.listing`): every payment item is in `by_created` (partition: its
# kind) and `by_reference` / `by_status` (partition: kind + reference / kind + status), each
# sorted by `listed_at`, the creation time at fixed width (so text order is time order).
LISTED_AT = "listed_at"
REFERENCE_KEY = "reference_key"
STATUS_KEY = "status_key"
HISTORY = "history"
BY_CREATED = "by_created"
BY_REFERENCE = "by_reference"
BY_STATUS = "by_status"
# The reference indexes with narrow projections (`REFERENCE_INDEXES=narrow`): an order's
# payments (keys and the immutable fields a list filter or a duplicate-reference warning
# needs, and `status`) and a payment by its provider's reference (keys only; the item is
# read by key after). The ALL ones (`by_reference`,
# `by_provider_reference`) rewrote the whole item on every write; read only while a live
# table migrates (docs/migration.md).
BY_REFERENCE_KEYS = "by_reference_keys"
BY_PROVIDER_REFERENCE = "by_provider_reference"
BY_PROVIDER_REFERENCE_KEYS = "by_provider_reference_keys"
# The sharded list indexes: creation order and status spread over `CREATED_SHARDS` and
# `STATUS_SHARDS` partition values each (`kind#shard`, `kind#status#shard`, the shard from
# `paygate.shards.shard_of(id)`), projecting only the keys and the immutable `provider` and
# `method` the filters need, so that a write which leaves an index's key alone writes nothing
# there. The counts come from the key-rate simulation (docs/performance.md). `by_created` and
# `by_status` (partition `kind`, `kind#status`; projection ALL) stay written until a live
# table's migration ends (docs/migration.md).
CREATED_SHARD_KEY = "created_shard"
STATUS_SHARD_KEY = "status_shard"
BY_CREATED_SHARDED = "by_created_shard"
BY_STATUS_SHARDED = "by_status_shard"
CREATED_SHARDS = 4
STATUS_SHARDS = 8
# Each list index's partition key attribute (all six are sorted by `listed_at`).
PARTITION_KEYS = {
    BY_CREATED: "kind",
    BY_REFERENCE: REFERENCE_KEY,
    BY_REFERENCE_KEYS: REFERENCE_KEY,
    BY_STATUS: STATUS_KEY,
    BY_CREATED_SHARDED: CREATED_SHARD_KEY,
    BY_STATUS_SHARDED: STATUS_SHARD_KEY,
}


def provider_ref(provider: Provider, reference: str) -> str:
    return f"{provider.value}#{reference}"


def listed_at(moment: datetime) -> str:
    """A creation time as the list indexes sort it: UTC, microseconds, fixed width."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reference_key(kind: Kind, merchant_reference: str) -> str:
    return f"{kind.value}#{merchant_reference}"


def status_key(kind: Kind, status: PaymentStatus) -> str:
    return f"{kind.value}#{status.value}"


def created_partitions(kind: Kind) -> list[str]:
    """Every partition of `by_created_shard` that holds `kind` items."""
    return [f"{kind.value}#{shard:02d}" for shard in range(CREATED_SHARDS)]


def status_partitions(kind: Kind, status: PaymentStatus) -> list[str]:
    """Every partition of `by_status_shard` that holds `kind` items in `status`."""
    return [f"{status_key(kind, status)}#{shard:02d}" for shard in range(STATUS_SHARDS)]


def created_shard_key(kind: Kind, payment_id: str) -> str:
    """A payment's partition in `by_created_shard` (fixed for life: it depends on the id)."""
    return f"{kind.value}#{shard_of(payment_id, CREATED_SHARDS):02d}"


def status_shard_key(kind: Kind, status: PaymentStatus, payment_id: str) -> str:
    """A payment's partition in `by_status_shard` while it is in `status`."""
    return f"{kind.value}#{status.value}#{shard_of(payment_id, STATUS_SHARDS):02d}"


def storable(value: Any) -> Any:
    """DynamoDB takes no floats (stored as exact decimals) and numbers of at most 38 digits
    (magnitude 1e-130 to 1e126): a number it cannot hold is kept as its text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
        digits = len(number.as_tuple().digits)
        exponent = number.adjusted() if number else 0
        if digits > 38 or not -130 <= exponent <= 125:
            return str(value)
        return number if isinstance(value, float) else value
    if isinstance(value, dict):  # an empty key breaks stream readers: it is renamed
        return {(key or EMPTY_KEY): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def document_value(value: Any) -> Any:
    """A value as it is stored: models as their JSON (without nulls), enums as their text."""
    return to_jsonable_python(value, exclude_none=True)


def packed_body(document: dict[str, Any]) -> bytes:
    """A webhook's masked body as its item stores it: the document's JSON text (empty keys,
    Vietnamese text and numbers as received), zlib-compressed, in one binary attribute.
    - Bytes: half the text's (a Monetix callback 759 → 384, Smart Glocal's 881 → 449), and
      fewer than a DynamoDB map of it. The JSON text alone is larger than the map (about 5
      bytes more per field) and took the Monetix callback's item over the 1 KB write unit.
    - CPU: two C calls (about 20 µs on a warm delivery) where typing every nested value
      for DynamoDB, then for botocore's serializer, was most of a delivery's own work."""
    return zlib.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())


def unpacked_body(stored: bytes | dict[str, Any]) -> dict[str, Any]:
    """The document `packed_body` stored; items written before it hold the body as a map."""
    if isinstance(stored, dict):
        return stored
    return dict(json.loads(zlib.decompress(stored)))


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def payment_document(payment: Payment) -> dict[str, Any]:
    """The stored payment item (untyped), with its index attributes."""
    document = payment.model_dump(mode="json", exclude_none=True)
    document.update(entity="payment", pk=f"PAYMENT#{payment.id}", sk="PAYMENT")
    document[WRITTEN_BY] = BY_LEDGER
    document[LISTED_AT] = listed_at(payment.created_at)
    document[REFERENCE_KEY] = reference_key(payment.kind, payment.merchant_reference)
    document[STATUS_KEY] = status_key(payment.kind, payment.status)
    document[CREATED_SHARD_KEY] = created_shard_key(payment.kind, payment.id)
    document[STATUS_SHARD_KEY] = status_shard_key(payment.kind, payment.status, payment.id)
    if not in_schedule(payment):
        for name in SCHEDULE_FIELDS:
            document.pop(name, None)
    else:  # in the sparse reconcile index until final (or until an expiry's tail ends)
        due = payment.reconcile_at or payment.created_at + FIRST_RECONCILE_AFTER
        document["reconcile_due"] = reconcile_due_partition(payment.id)
        document["reconcile_at"] = timestamp(due)
    if payment.provider_reference:
        document["provider_ref"] = provider_ref(payment.provider, payment.provider_reference)
    return document


@dataclass(frozen=True)
class ShardAnswer:
    """What one list partition's Query found: its entries (`listed_at`, payment id), newest
    first, and where it stopped reading (None: the partition has no more)."""

    entries: list[tuple[str, str]]
    last: tuple[str, str] | None


@dataclass(frozen=True)
class ListQuery:
    """One list partition's Query (`paygate.listing.ListPlan`): the index, the partition,
    the creation-time range, the filters the index does not hold, how many entries to read,
    and where to start. It returns only the entries' keys (the page's items are read by key
    afterwards)."""

    index: str
    partition: str
    created_from: str | None
    created_until: str | None  # inclusive: the last microsecond before `created_to`
    residual: dict[str, str]
    reads: int
    start: dict[str, str] | None = None  # a position (from a cursor): where the page starts

    @property
    def partition_key(self) -> str:
        return PARTITION_KEYS[self.index]

    def request(self) -> dict[str, Any]:
        """The Query's parameters (typed values), newest first, reading at most `reads`."""
        condition = "#part = :part"
        names = {"#part": self.partition_key, "#pk": "pk", "#listed": LISTED_AT}
        values: dict[str, Any] = {":part": {"S": self.partition}}
        if self.created_from or self.created_until:
            names["#at"] = LISTED_AT
            low, high = self.created_from, self.created_until
            condition += (
                " AND #at BETWEEN :from AND :until"
                if low and high
                else (" AND #at >= :from" if low else " AND #at <= :until")
            )
            values |= {k: {"S": v} for k, v in ((":from", low), (":until", high)) if v}
        request: dict[str, Any] = {
            "IndexName": self.index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": self.reads,
            "ProjectionExpression": "#pk, #listed",
        }
        if self.residual:
            terms = []
            for i, (attribute, value) in enumerate(sorted(self.residual.items())):
                names[f"#f{i}"], values[f":f{i}"] = attribute, {"S": value}
                terms.append(f"#f{i} = :f{i}")
            request["FilterExpression"] = " AND ".join(terms)
        if self.start:
            request["ExclusiveStartKey"] = {k: {"S": v} for k, v in self.start.items()}
        return request | {"ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


class Expression:
    """One DynamoDB expression and the attribute names and values it uses."""

    def __init__(self) -> None:
        self.text = ""
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, field: str) -> str:
        self.names[f"#{field}"] = field
        return f"#{field}"

    def value(self, key: str, value: Any) -> str:
        self.values[f":{key}"] = storable(document_value(value))
        return f":{key}"


def transition_condition(transition: Transition, version: int | None = None) -> Expression:
    """`Transition.admits` as a ConditionExpression: the payment exists, is the transition's
    provider's, is in `allowed_from` and (the amount check) of the expected amount and
    currency; with `version` (the payment was read), also still that version."""
    condition = Expression()
    provider = condition.value("provider", transition.provider)
    terms = ["attribute_exists(pk)", f"{condition.name('provider')} = {provider}"]
    statuses = sorted(status.value for status in transition.allowed_from) or ["-"]
    allowed = ", ".join(condition.value(f"from{i}", status) for i, status in enumerate(statuses))
    terms.append(f"{condition.name('status')} IN ({allowed})")
    if transition.expected_amount is not None:
        amount = condition.value("amount", transition.expected_amount)
        terms.append(f"{condition.name('amount')} = {amount}")
    if transition.expected_currency is not None:
        currency = condition.value("currency", transition.expected_currency)
        terms.append(f"{condition.name('currency')} = {currency}")
    if version is not None:
        terms.append(f"{condition.name('version')} = {condition.value('expected', version)}")
    condition.text = " AND ".join(terms)
    return condition


def transition_update(
    transition: Transition, now: datetime, kind: Kind, payment_id: str
) -> Expression:
    """`Transition.changes()` as an UpdateExpression, with the item's own bookkeeping:
    version + 1, `updated_at`, the writer, the status change appended to `history`, the
    status (both its keys), creation-shard and provider-reference indexes and (when final)
    leaving the reconcile index; the same item `payment_document` gives after
    `Transition.applied_to` (of the `kind` payment `payment_id`)."""
    update = Expression()
    stored_status = update.value("status_key", status_key(kind, transition.target))
    status_shard = status_shard_key(kind, transition.target, payment_id)
    sets = [
        f"{update.name('version')} = {update.name('version')} + {update.value('one', 1)}",
        f"{update.name('updated_at')} = {update.value('now', timestamp(now))}",
        f"{update.name(WRITTEN_BY)} = {update.value('by', BY_LEDGER)}",
        f"{update.name(STATUS_KEY)} = {stored_status}",
        f"{update.name(STATUS_SHARD_KEY)} = {update.value('status_shard', status_shard)}",
        # Set once; an item written before the sharded indexes gains it with its next change.
        f"{update.name(CREATED_SHARD_KEY)} = if_not_exists({update.name(CREATED_SHARD_KEY)}, "
        f"{update.value('created_shard', created_shard_key(kind, payment_id))})",
    ]
    change = transition.status_change(now)
    if change is not None:
        history = update.name(HISTORY)
        appended = f"list_append(if_not_exists({history}, {update.value('no_history', [])}), "
        sets.append(f"{history} = {appended}{update.value('change', [change])})")
    removes: list[str] = []
    for field, value in transition.changes().items():
        if value is None:
            removes.append(update.name(field))
        else:
            sets.append(f"{update.name(field)} = {update.value(field, value)}")
    if transition.provider_reference:
        reference = provider_ref(transition.provider, transition.provider_reference)
        sets.append(f"{update.name('provider_ref')} = {update.value('provider_ref', reference)}")
    if transition.target.is_terminal and transition.schedule_at is None:  # out of the index
        removes.append(update.name("reconcile_due"))
    update.text = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return update
