"""Listing payments and payouts: the filters a merchant may use, the index each query reads,
and the opaque cursor between pages.

Every page is one DynamoDB `Query` on one of three list indexes (`paygate.table_items`), each
sorted by creation time, newest first: `by_reference` when `merchant_reference` is given,
else `by_status` when `status` is, else `by_created`. `created_from`/`created_to` narrow the
sort key; the filters the index does not hold (provider, method, and status on the reference
index) are a FilterExpression. Without such filters a page reads `limit + 1` items (the extra
one only says whether there is a next page); with them it reads at most `RESIDUAL_READS`
items, so a page may hold fewer than `limit` (even none) and still have a `next_cursor`. What a
page costs never depends on how large the table is.

A cursor is the position after a page's last item, with the query it belongs to, signed with
HMAC-SHA256 by the cursor secret (`key`, and `key_previous` while it is rotated): a cursor the
gateway did not issue, or one issued for other filters or the other kind, is a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import AwareDatetime, BaseModel, SecretStr

from paygate.domain import Kind, Method, Payment, PaymentStatus, Provider
from paygate.errors import InvalidCursor, ValidationFailed
from paygate.table_items import (
    BY_CREATED,
    BY_REFERENCE,
    BY_STATUS,
    ListQuery,
    listed_at,
    reference_key,
    status_key,
)

if TYPE_CHECKING:
    from paygate.repository import PaymentRepository

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
RESIDUAL_READS = 200  # items one page may read when some filters are not in the index
CURSOR_VERSION = 1
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


def plan(kind: Kind, filters: ListFilters, limit: int) -> ListQuery:
    """The first page's Query for `filters` (the most selective index first)."""
    residual: dict[str, str] = {}
    if filters.merchant_reference is not None:
        index, partition = BY_REFERENCE, reference_key(kind, filters.merchant_reference)
        if filters.status is not None:
            residual["status"] = filters.status.value
    elif filters.status is not None:
        index, partition = BY_STATUS, status_key(kind, filters.status)
    else:
        index, partition = BY_CREATED, kind.value
    if filters.provider is not None:
        residual["provider"] = filters.provider.value
    if filters.method is not None:
        residual["method"] = filters.method.value
    return ListQuery(
        index=index,
        partition=partition,
        created_from=listed_at(filters.created_from) if filters.created_from else None,
        created_until=listed_at(filters.created_to - _TICK) if filters.created_to else None,
        residual=residual,
        reads=max(RESIDUAL_READS, limit + 1) if residual else limit + 1,
    )


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

    def issue(self, fingerprint: str, query: ListQuery, position: dict[str, str]) -> str:
        document = {"v": CURSOR_VERSION, "q": fingerprint, "i": query.index, "p": position}
        payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        mac = self._mac(self._keys()[0], payload)
        return f"{_b64(payload)}.{_b64(mac)}"

    def position(self, cursor: str, fingerprint: str, query: ListQuery) -> dict[str, str]:
        """Where the page after `cursor` starts; `InvalidCursor` unless this gateway issued
        `cursor` for this very query."""
        try:
            text, mac_text = cursor.split(".")
            payload, mac = _unb64(text), _unb64(mac_text)
        except ValueError:
            raise _invalid("cursor: not a cursor this gateway issued") from None
        if not any(hmac.compare_digest(mac, self._mac(k, payload)) for k in self._keys()):
            raise _invalid("cursor: not a cursor this gateway issued")
        document = json.loads(payload)
        if document.get("q") != fingerprint or document.get("i") != query.index:
            raise _invalid("cursor: issued for another query; send the same filters")
        position = document.get("p")
        if (
            document.get("v") != CURSOR_VERSION
            or not isinstance(position, dict)
            or set(position) != query.position_keys
            or position[query.partition_key] != query.partition
            or not all(isinstance(value, str) for value in position.values())
        ):
            raise _invalid("cursor: not a cursor this gateway issued")
        return position


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

    def __init__(self, repository: PaymentRepository, signer: CursorSigner) -> None:
        self.repository = repository
        self.signer = signer

    def page(
        self,
        kind: Kind,
        filters: ListFilters,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page:
        filters.check()
        fingerprint = filters.fingerprint(kind)
        query = plan(kind, filters, limit)
        if cursor:  # the same Query, started where the cursor's page ended
            query = replace(query, start=self.signer.position(cursor, fingerprint, query))
        found, last = self.repository.list_page(query)
        if len(found) > limit:
            found, last = found[:limit], found[limit - 1][1]
        payments = [payment for payment, _ in found]
        next_cursor = self.signer.issue(fingerprint, query, last) if last else None
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
