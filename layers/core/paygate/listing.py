"""Listing payments and payouts: the filters a merchant may use, the index each page reads,
and the opaque cursor between pages.

A page reads one list index (`paygate.table_items`), sorted by creation time, newest first:
`by_reference_keys` when `merchant_reference` is given, else `by_status_shard` when `status` is,
else `by_created_shard`. The two sharded indexes spread a list over several partitions
(`CREATED_SHARDS`, `STATUS_SHARDS`): a page sends one `Query` per partition, all at once,
merges what they found newest first, and reads the page's items with one `BatchGetItem`.
`created_from`/`created_to` narrow the sort key; the filters the index does not hold
(provider, method, and status on the reference index) are a FilterExpression. Without such
filters each partition's Query reads `limit + 1` entries; with them at most `RESIDUAL_READS`,
so a page may hold fewer than `limit` (even none) and still have a `next_cursor`. A page only
shows entries that every partition has read past, so merged order is exact. An item whose
status changed since the index was written no longer matches a `status` filter and is left
out. What a page costs never depends on how large the table is.

While a live table moves to the sharded indexes (`LIST_INDEXES=legacy`, docs/migration.md) a
page reads `by_created` / `by_status` instead, each one partition: the same code with one shard;
while it moves to the narrow reference index (`REFERENCE_INDEXES=wide`), `by_reference`.

A cursor holds, for each partition of the query, where the next page starts there (or that
it has ended), with the query it belongs to, signed with HMAC-SHA256 by the cursor secret
(`key`, and `key_previous` while it is rotated): a cursor the gateway did not issue, one of
an older version, or one issued for other filters or the other kind, is a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, SecretStr

from paygate.domain import Kind, Method, Payment, PaymentStatus, Provider
from paygate.errors import InvalidCursor, ValidationFailed
from paygate.table_items import (
    BY_CREATED,
    BY_CREATED_SHARDED,
    BY_REFERENCE_KEYS,
    BY_STATUS,
    BY_STATUS_SHARDED,
    LISTED_AT,
    PARTITION_KEYS,
    ListQuery,
    ShardAnswer,
    created_partitions,
    listed_at,
    reference_key,
    status_key,
    status_partitions,
)

if TYPE_CHECKING:
    from paygate.repository import PaymentRepository

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
RESIDUAL_READS = 200  # items one page may read when some filters are not in the index
CURSOR_VERSION = 2  # 1: one partition's position (before the sharded indexes)
_MAC_BYTES = 16
_TICK = timedelta(microseconds=1)


class ListFilters(BaseModel):
    """What a list may be narrowed by (each optional); `created_to` is exclusive."""

    merchant_reference: str | None = None
    status: PaymentStatus | None = None
    provider: Provider | None = None
    method: Method | None = None
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None

    def check(self) -> None:
        if self.created_from and self.created_to and self.created_from >= self.created_to:
            raise ValidationFailed("created_to: must be after created_from", field="created_to")

    def fingerprint(self, kind: Kind) -> str:
        """Which query a cursor belongs to."""
        text = f"{kind.value}|{self.model_dump_json()}"
        return hashlib.sha256(text.encode()).hexdigest()[:24]


ListIndexes = Literal["sharded", "legacy"]


@dataclass(frozen=True)
class ListPlan:
    """The Queries of a list's pages: one per partition of the index, the same range and
    residual filters in each."""

    index: str
    partitions: tuple[str, ...]
    created_from: str | None
    created_until: str | None  # inclusive: the last microsecond before `created_to`
    residual: dict[str, str]
    reads: int

    def query(self, partition: str, start: dict[str, str] | None) -> ListQuery:
        return ListQuery(
            self.index,
            partition,
            self.created_from,
            self.created_until,
            self.residual,
            self.reads,
            start,
        )

    def position(self, partition: str, entry: tuple[str, str]) -> dict[str, str]:
        """The index position (ExclusiveStartKey) of an entry (`listed_at`, payment id)."""
        at, payment_id = entry
        return {
            "pk": f"PAYMENT#{payment_id}",
            "sk": "PAYMENT",
            PARTITION_KEYS[self.index]: partition,
            LISTED_AT: at,
        }


def plan(
    kind: Kind,
    filters: ListFilters,
    limit: int,
    indexes: ListIndexes = "sharded",
    reference_index: str = BY_REFERENCE_KEYS,
) -> ListPlan:
    """The Queries for `filters` (the most selective index first; `reference_index`: the
    narrow one, or `by_reference` while a live table migrates)."""
    residual: dict[str, str] = {}
    partitions: list[str]
    if filters.merchant_reference is not None:
        index, partitions = reference_index, [reference_key(kind, filters.merchant_reference)]
        if filters.status is not None:
            residual["status"] = filters.status.value
    elif filters.status is not None:
        if indexes == "legacy":
            index, partitions = BY_STATUS, [status_key(kind, filters.status)]
        else:
            index, partitions = BY_STATUS_SHARDED, status_partitions(kind, filters.status)
    elif indexes == "legacy":
        index, partitions = BY_CREATED, [kind.value]
    else:
        index, partitions = BY_CREATED_SHARDED, created_partitions(kind)
    if filters.provider is not None:
        residual["provider"] = filters.provider.value
    if filters.method is not None:
        residual["method"] = filters.method.value
    return ListPlan(
        index=index,
        partitions=tuple(partitions),
        created_from=listed_at(filters.created_from) if filters.created_from else None,
        created_until=listed_at(filters.created_to - _TICK) if filters.created_to else None,
        residual=residual,
        reads=max(RESIDUAL_READS, limit + 1) if residual else limit + 1,
    )


# Where a partition's next Query starts: at its newest entry, after an entry (its
# `listed_at` and payment id), or nowhere (the partition has no more entries for the query).
Start = Literal["newest", "ended"] | tuple[str, str]
NEWEST: Start = "newest"
ENDED: Start = "ended"


def merged(
    answers: list[ShardAnswer], starts: list[Start], limit: int
) -> tuple[list[tuple[str, str]], list[Start]]:
    """A page's entries, newest first, and where each partition starts the next page.

    An entry is shown only when no partition that read less far may still hold a newer one:
    every shown entry is at or above the highest point where a partition stopped reading."""
    floor = max((answer.last for answer in answers if answer.last), default=None)
    candidates = sorted(
        ((entry, shard) for shard, answer in enumerate(answers) for entry in answer.entries),
        reverse=True,
    )
    shown = [(e, shard) for e, shard in candidates if floor is None or e >= floor][:limit]
    next_starts: list[Start] = []
    for shard, answer in enumerate(answers):
        mine = [entry for entry, owner in shown if owner == shard]
        if len(mine) < len(answer.entries):  # entries read but not shown: read again
            next_starts.append(mine[-1] if mine else starts[shard])
        else:
            next_starts.append(answer.last or ENDED)
    return [entry for entry, _ in shown], next_starts


@dataclass(frozen=True)
class Page:
    payments: list[Payment]
    next_cursor: str | None


class CursorSigner:
    """Signs and checks cursors with the current key (and the previous one while rotated)."""

    def __init__(self, keys: Callable[[], list[str]]) -> None:
        self._keys = keys

    def _mac(self, key: str, payload: bytes) -> bytes:
        return hmac.new(key.encode(), payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, fingerprint: str, plan: ListPlan, starts: list[Start]) -> str:
        document = {
            "v": CURSOR_VERSION,
            "q": fingerprint,
            "i": plan.index,
            "p": [_stored(start) for start in starts],
        }
        payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        mac = self._mac(self._keys()[0], payload)
        return f"{_b64(payload)}.{_b64(mac)}"

    def starts(self, cursor: str, fingerprint: str, plan: ListPlan) -> list[Start]:
        """Where each partition's part of the page after `cursor` starts; `InvalidCursor`
        unless this gateway issued `cursor` (of this version) for this very query."""
        try:
            text, mac_text = cursor.split(".")
            payload, mac = _unb64(text), _unb64(mac_text)
        except ValueError:
            raise _invalid("cursor: not a cursor this gateway issued") from None
        if not any(hmac.compare_digest(mac, self._mac(k, payload)) for k in self._keys()):
            raise _invalid("cursor: not a cursor this gateway issued")
        try:
            document = json.loads(payload)
        except ValueError:
            raise _invalid("cursor: not a cursor this gateway issued") from None
        if not isinstance(document, dict) or document.get("v") != CURSOR_VERSION:
            raise _invalid("cursor: from an older version of the gateway; start from page one")
        if document.get("q") != fingerprint or document.get("i") != plan.index:
            raise _invalid("cursor: issued for another query; send the same filters")
        stored = document.get("p")
        if not isinstance(stored, list) or len(stored) != len(plan.partitions):
            raise _invalid("cursor: not a cursor this gateway issued")
        starts = [_loaded(value) for value in stored]
        if any(start is None for start in starts) or all(start == ENDED for start in starts):
            raise _invalid("cursor: not a cursor this gateway issued")
        return [start for start in starts if start is not None]


def _stored(start: Start) -> Any:
    return None if start == ENDED else 0 if start == NEWEST else list(start)


def _loaded(value: Any) -> Start | None:
    """A partition's start as the cursor holds it (None: not one the gateway writes)."""
    if value is None:
        return ENDED
    if value == 0 and not isinstance(value, bool):
        return NEWEST
    if (
        isinstance(value, list)
        and len(value) == 2  # (listed_at, payment id)
        and all(isinstance(part, str) and part for part in value)
    ):
        return (value[0], value[1])
    return None


def _invalid(message: str) -> InvalidCursor:
    return InvalidCursor(message, field="cursor")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not text.replace("-", "").replace("_", "").isalnum():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PaymentLister:
    """Pages of payments (or payouts), newest first."""

    def __init__(
        self,
        repository: PaymentRepository,
        signer: CursorSigner,
        indexes: ListIndexes = "sharded",
        reference_index: str = BY_REFERENCE_KEYS,
    ) -> None:
        self.repository = repository
        self.signer = signer
        self.indexes = indexes
        self.reference_index = reference_index

    def page(
        self,
        kind: Kind,
        filters: ListFilters,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page:
        filters.check()
        fingerprint = filters.fingerprint(kind)
        query_plan = plan(kind, filters, limit, self.indexes, self.reference_index)
        starts: list[Start] = [NEWEST] * len(query_plan.partitions)
        if cursor:  # the same Queries, each started where the cursor's page left it
            starts = self.signer.starts(cursor, fingerprint, query_plan)
        queries = {
            shard: query_plan.query(
                partition,
                query_plan.position(partition, start) if isinstance(start, tuple) else None,
            )
            for shard, (partition, start) in enumerate(
                zip(query_plan.partitions, starts, strict=True)
            )
            if start != ENDED
        }
        answered = self.repository.list_entries(list(queries.values()))
        found = dict(zip(queries, answered, strict=True))
        answers = [found.get(shard, ShardAnswer([], None)) for shard in range(len(starts))]
        entries, next_starts = merged(answers, starts, limit)
        items = self.repository.payments_by_id([payment_id for _, payment_id in entries])
        payments = [
            items[payment_id]
            for _, payment_id in entries
            if payment_id in items and filters.status in (None, items[payment_id].status)
        ]
        more = any(start != ENDED for start in next_starts)
        next_cursor = self.signer.issue(fingerprint, query_plan, next_starts) if more else None
        return Page(payments, next_cursor)


class CursorSecret(BaseModel):
    """The cursor secret's JSON: the signing key, and the previous one while it is rotated."""

    key: SecretStr
    key_previous: SecretStr | None = None


def secret_keys(secret_id: str) -> Callable[[], list[str]]:
    """The cursor keys from Secrets Manager (read on first use, cached five minutes)."""

    def keys() -> list[str]:
        from paygate.credentials import load_credentials, rotation_secrets

        secret = load_credentials(secret_id, CursorSecret)
        return rotation_secrets(secret.key, secret.key_previous)

    return keys
