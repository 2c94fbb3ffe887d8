"""Merchant API keys with scopes, and who a request's `x-api-key` header says it comes from.

A key is `pgk_<key id>_<secret>`: a 12-character id (how it is found) and 32 random bytes
(URL-safe Base64). Only the SHA-256 of the whole key is stored (`ApiKeyRecord`, read through
`paygate.repository.ApiKeyRepository`) and compared with `hmac.compare_digest`. A key carries
scopes (`Scope`) and may be revoked. A key chosen elsewhere (an API Gateway usage-plan key
moved over, the local runtime's `local-dev-key`) may be imported: its id is then
`imp_` and 16 hex digits of its SHA-256.

The same header may carry a per-payment client secret (`paygate.client_secrets`): it names
one payment and may read, confirm or cancel that payment, nothing else.

`Authorizer.decide` turns a header value into a `Principal`, `REVOKED` or None (unknown); the
API's Lambda authorizer (`functions/authorize_key`) answers API Gateway with it, and the
principal reaches the handlers in `requestContext.authorizer` (`Principal.context`), where
`paygate.access` enforces each route's scope."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from paygate import client_secrets
from paygate.client_secrets import ClientSecretKey

HEADER = "x-api-key"
KEY_PREFIX = "pgk_"
MAX_HEADER_CHARS = 256  # longer than any key or client secret we issue
_KEY_SHAPE = re.compile(r"pgk_(?P<key_id>[a-z0-9]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
# An imported key: printable ASCII without spaces, as API Gateway's own keys (20+ characters);
# 6 at least, so that the local runtime's and the tests' short keys import.
_IMPORTED_SHAPE = re.compile(r"[\x21-\x7e]{6,128}")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class Scope(StrEnum):
    """What a merchant key may do (`docs/api.md`: the scope of each route)."""

    PAYMENTS_WRITE = "payments:write"  # create payments, confirm, cancel, clarify
    PAYMENTS_READ = "payments:read"  # read a payment, bank lists
    PAYOUTS_WRITE = "payouts:write"  # create payouts, payout banks and balance


ALL_SCOPES = frozenset(Scope)


class PrincipalKind(StrEnum):
    MERCHANT_KEY = "merchant_key"
    CLIENT_SECRET = "client_secret"  # noqa: S105  the kind's name, not a secret


class Principal(BaseModel):
    """Who a request comes from: a merchant key (its id and scopes) or a client secret (the
    one payment it names)."""

    model_config = ConfigDict(frozen=True)

    kind: PrincipalKind
    key_id: str = ""
    scopes: frozenset[Scope] = frozenset()
    payment_id: str = ""

    @property
    def principal_id(self) -> str:
        """The authorizer's `principalId`: the key id, or the payment a secret names."""
        if self.kind is PrincipalKind.MERCHANT_KEY:
            return f"key:{self.key_id}"
        return f"client_secret:{self.payment_id}"

    def context(self) -> dict[str, str]:
        """The authorizer's `context` (string values only, as API Gateway passes them on)."""
        return {
            "kind": self.kind.value,
            "key_id": self.key_id,
            "scopes": " ".join(sorted(self.scopes)),
            "payment_id": self.payment_id,
        }

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Principal | None:
        """The principal an authorizer put in `requestContext.authorizer`; None without one."""
        try:
            kind = PrincipalKind(str(context.get("kind") or ""))
        except ValueError:
            return None
        scopes = frozenset(
            Scope(word) for word in str(context.get("scopes") or "").split() if word in _SCOPES
        )
        return cls(
            kind=kind,
            key_id=str(context.get("key_id") or ""),
            scopes=scopes,
            payment_id=str(context.get("payment_id") or ""),
        )


_SCOPES = frozenset(scope.value for scope in Scope)


class ApiKeyRecord(BaseModel):
    """A key as stored: never the key, only its SHA-256 (hex)."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    secret_sha256: str
    scopes: frozenset[Scope]
    label: str = ""
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class KeyStore(Protocol):
    def get_api_key(self, key_id: str) -> ApiKeyRecord | None: ...


def sha256_hex(presented: str) -> str:
    return hashlib.sha256(presented.encode()).hexdigest()


def key_id_of(presented: str) -> str | None:
    """The id a presented key is stored under, or None when it cannot be a key."""
    issued = _KEY_SHAPE.fullmatch(presented)
    if issued is not None:
        return issued["key_id"]
    if presented.startswith(KEY_PREFIX) or _IMPORTED_SHAPE.fullmatch(presented) is None:
        return None
    return "imp_" + sha256_hex(presented)[:16]


def new_key(scopes: frozenset[Scope], label: str, now: datetime) -> tuple[str, ApiKeyRecord]:
    """A new key (shown once) and the record to store."""
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    key = f"{KEY_PREFIX}{key_id}_{secret}"
    return key, ApiKeyRecord(
        key_id=key_id, secret_sha256=sha256_hex(key), scopes=scopes, label=label, created_at=now
    )


def imported_key(value: str, scopes: frozenset[Scope], label: str, now: datetime) -> ApiKeyRecord:
    """The record of a key chosen elsewhere (`value` must be 6 to 128 printable characters
    and not look like an issued key)."""
    key_id = key_id_of(value)
    if key_id is None or not key_id.startswith("imp_"):
        raise ValueError("an imported key is 6 to 128 printable characters, not pgk_...")
    return ApiKeyRecord(
        key_id=key_id, secret_sha256=sha256_hex(value), scopes=scopes, label=label, created_at=now
    )


REVOKED: Literal["revoked"] = "revoked"
Decision = Principal | Literal["revoked"] | None


class Authorizer:
    """Decides who an `x-api-key` header value is: a `Principal`, `REVOKED` (a key that
    existed and was revoked), or None (missing, malformed or unknown)."""

    def __init__(self, keys: KeyStore, client_secret_key: Callable[[], ClientSecretKey]) -> None:
        self.keys = keys
        self.client_secret_key = client_secret_key

    def decide(self, presented: str | None) -> Decision:
        if not presented or len(presented) > MAX_HEADER_CHARS:
            return None
        if client_secrets.SEPARATOR in presented and not presented.startswith(KEY_PREFIX):
            payment_id = client_secrets.payment_of(presented, self.client_secret_key())
            if payment_id is None:
                return None
            return Principal(kind=PrincipalKind.CLIENT_SECRET, payment_id=payment_id)
        key_id = key_id_of(presented)
        if key_id is None:
            return None
        record = self.keys.get_api_key(key_id)
        if record is None or not hmac.compare_digest(
            record.secret_sha256.encode(), sha256_hex(presented).encode()
        ):
            return None
        if record.revoked:
            return REVOKED
        return Principal(kind=PrincipalKind.MERCHANT_KEY, key_id=key_id, scopes=record.scopes)
