"""Erase card data, secrets and signatures, and mask personal data, in anything stored raw or
logged (docs/privacy.md).

Erased (`*****`): card numbers and security codes, secrets, signatures, identity documents.
Masked (`mask`: a short prefix and suffix, the rest `*`): names, emails, phone numbers, IP
addresses and account numbers, which the gateway never needs in full once a payment is made;
what is left is enough for a person to recognise whose notification it was."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

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
# Keys whose values are personal data the gateway does not need in full (providers' callback
# fields: the platform's `customer`/`account`, Smart Glocal's `contacts` and `sender`).
PERSONAL_KEYS = frozenset(
    {
        "email",
        "phone",
        "phone_number",
        "first_name",
        "last_name",
        "middle_name",
        "full_name",
        "customer_name",
        "card_holder",
        "holder",
        "account_number",
        "account_name",
        "bank_number",
        "ip",
        "ip_address",
    }
)
# `number` is personal under these parents (the platform's `account.number`: a bank account,
# a wallet's email or a masked card).
PERSONAL_NUMBER_PARENTS = frozenset({"account", "wallet", "bank_account"})
# Keys that identify the customer in a provider's document (`customer.id`, Smart Glocal's
# `customer.reference`): kept in stored callbacks (they link a notification to its customer),
# erased with the rest by `forget`.
CUSTOMER_PARENTS = frozenset({"customer", "sender", "recipient", "payer"})
CUSTOMER_ID_KEYS = frozenset({"id", "reference"})
MASK = "*"
MAX_PREFIX = 2
MAX_SUFFIX = 4


def mask(value: str) -> str:
    """`value` with at most a third of its characters shown (at most the first 2 and the last
    4), every other one `*`, its length kept: `0912345678` → `0*******78`,
    `an.nguyen@example.vn` → `an**************e.vn`. Values of 1 or 2 characters show nothing.
    Masking a masked value changes nothing."""
    shown = min(MAX_PREFIX + MAX_SUFFIX, len(value) // 3)
    prefix = min(MAX_PREFIX, shown // 3)
    suffix = shown - prefix
    hidden = len(value) - shown
    return value[:prefix] + MASK * hidden + (value[len(value) - suffix :] if suffix else "")


def erase(value: Any, parent: str = "") -> Any:
    """A copy of `value` with every sensitive key's value replaced by `*****` and every
    personal key's value masked (`mask`, numbers as their text; nested values masked
    throughout)."""
    if isinstance(value, dict):
        return {key: _erased(str(key).lower(), item, parent) for key, item in value.items()}
    if isinstance(value, list):
        return [erase(item, parent) if isinstance(item, (dict, list)) else item for item in value]
    return value


def _erased(key: str, item: Any, parent: str) -> Any:
    if key in SENSITIVE_KEYS:
        return ERASED
    if key in PERSONAL_KEYS or (key == "number" and parent in PERSONAL_NUMBER_PARENTS):
        return _masked(item)
    return erase(item, key) if isinstance(item, (dict, list)) else item


def _masked(item: Any) -> Any:
    """A personal value masked: text and numbers by `mask`, containers item by item."""
    if item is None or isinstance(item, bool):
        return item
    if isinstance(item, dict):
        return {key: _masked(value) for key, value in item.items()}
    if isinstance(item, list):
        return [_masked(value) for value in item]
    return mask(str(item))


def is_contact_parameter(name: str) -> bool:
    """A URL query parameter that carries the customer: the Payment Page's `customer_*`
    (id, email, phone, names) or a personal key."""
    lowered = name.lower()
    return lowered.startswith("customer_") or lowered in PERSONAL_KEYS


def without_contact(url: str) -> str:
    """`url` without its customer parameters (`is_contact_parameter`) and, when any were
    there, without the `signature` that covered them: the address and what is left of its
    query, no longer a link to follow."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in query if not is_contact_parameter(name)]
    if len(kept) == len(query):
        return url
    kept = [(name, value) for name, value in kept if name != "signature"]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def forget(value: Any, identifiers: Collection[str], parent: str = "") -> Any:
    """A copy of `value` with everything personal erased (`*****`): sensitive and personal
    keys, cards, the customer's id keys, the customer parameters of URLs, and any text that
    contains one of `identifiers` (the customer's id, email, phone, account numbers; matched
    case-insensitively, also URL-encoded). JSON text inside a string is forgotten in place."""
    needles = _needles(identifiers)
    return _forget(value, needles, parent)


def _needles(identifiers: Collection[str]) -> frozenset[str]:
    """The identifiers worth matching (4 characters or more), lowercased, also URL-encoded."""
    found = set()
    for identifier in identifiers:
        if len(identifier) >= 4:
            found |= {identifier.lower(), quote_plus(identifier).lower()}
    return frozenset(found)


def _forget(value: Any, needles: frozenset[str], parent: str) -> Any:
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            name = str(key).lower()
            personal = (
                name in SENSITIVE_KEYS
                or name in PERSONAL_KEYS
                or name == "card"
                or (name == "number" and parent in PERSONAL_NUMBER_PARENTS)
                or (name in CUSTOMER_ID_KEYS and parent in CUSTOMER_PARENTS)
            )
            erased = personal and item is not None and not isinstance(item, (dict, list))
            kept[key] = ERASED if erased else _forget(item, needles, name)
        return kept
    if isinstance(value, list):
        return [_forget(item, needles, parent) for item in value]
    if isinstance(value, str):
        return _forgotten_text(value, needles)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ERASED if str(value).lower() in needles else value
    return value


def _forgotten_text(text: str, needles: frozenset[str]) -> str:
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict):
            return json.dumps(_forget(document, needles, ""), ensure_ascii=False)
    if text.startswith(("https://", "http://")):
        text = without_contact(text)
    return ERASED if _mentions(text, needles) else text


def _mentions(text: str, needles: frozenset[str]) -> bool:
    """True when one of `needles` stands in `text` as a whole token (not inside a longer run
    of letters and digits: a customer id `5000` is not in an amount `50000`)."""
    lowered = text.lower()
    return any(
        re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", lowered) for needle in needles
    )


def mask_pan(pan: str) -> str:
    """The most of a card number that may be stored or shown: first 6 and last 4 digits."""
    digits = "".join(ch for ch in pan if ch.isdigit())
    if len(digits) < 13:
        return "*" * len(digits)
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"
