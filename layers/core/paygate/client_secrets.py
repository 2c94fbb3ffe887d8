"""Per-payment client secrets (Stripe's `client_secret` model): what a shopper's browser holds
instead of the merchant's API key. A secret names one payment and lets its holder read that
payment and confirm or cancel it, nothing else.

`<payment id>_secret_<mac>`: the mac is an HMAC-SHA256 of the payment id under a key kept in
Secrets Manager, so a secret is checked in constant time without a table read, and nothing
that could rebuild it is stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from pydantic import BaseModel, SecretStr

SEPARATOR = "_secret_"
_SHAPE = re.compile(r"^(?P<payment>[A-Za-z0-9_-]{1,64})_secret_(?P<mac>[A-Za-z0-9_-]{43})$")


class ClientSecretKey(BaseModel):
    """The secret (JSON) holding the HMAC key; `previous` verifies during a rotation."""

    key: SecretStr
    previous: SecretStr | None = None


def _mac(payment_id: str, key: str) -> str:
    digest = hmac.new(key.encode(), payment_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(payment_id: str, key: ClientSecretKey) -> str:
    """The client secret of `payment_id` (the same every time it is asked for)."""
    return f"{payment_id}{SEPARATOR}{_mac(payment_id, key.key.get_secret_value())}"


def payment_of(secret: str, key: ClientSecretKey) -> str | None:
    """The payment id `secret` was issued for, or None when it is not a valid client secret."""
    match = _SHAPE.fullmatch(secret)
    if match is None:
        return None
    payment_id, given = match["payment"], match["mac"]
    keys = [key.key, *([key.previous] if key.previous else [])]
    valid = False
    for candidate in keys:  # every key compared, so timing does not tell which one matched
        expected = _mac(payment_id, candidate.get_secret_value())
        valid |= hmac.compare_digest(expected, given)
    return payment_id if valid else None
