"""Erase card data, secrets and signatures from anything stored raw or logged."""

from __future__ import annotations

from typing import Any

ERASED = "*****"
SENSITIVE_KEYS = frozenset(
    {
        "sign",
        "signature",
        "pan",
        "card_number",
        "cvv",
        "cvc",
        "cvv2",
        "app_secret",
        "secret",
        "password",
        "document",
    }
)


def erase(value: Any) -> Any:
    """A copy of `value` with every sensitive key's value replaced by `*****`."""
    if isinstance(value, dict):
        return {
            key: ERASED
            if str(key).lower() in SENSITIVE_KEYS
            else (erase(item) if isinstance(item, (dict, list)) else item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [erase(item) if isinstance(item, (dict, list)) else item for item in value]
    return value


def mask_pan(pan: str) -> str:
    """The most of a card number that may be stored or shown: first 6 and last 4 digits."""
    digits = "".join(ch for ch in pan if ch.isdigit())
    if len(digits) < 13:
        return "*" * len(digits)
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"
