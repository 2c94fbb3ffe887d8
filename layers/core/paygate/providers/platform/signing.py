"""Platform signature: Base64(HMAC-SHA512(secret, flattened `path:value` pairs joined by `;`)).

Rules (the platform's Signature generation and verification pages say what is signed; the
byte-level steps are those of the official Payment Page SDKs, `ITECOMMPAY/paymentpage-sdk-python`
`signature_handler.py` and `paymentpage-sdk-php` `SignatureHandler.php`; the SDKs' 8 vectors in
`tests/vectors/` pass):
- every `signature` key (at any depth) and every `frame_mode` key are left out;
- nested keys are joined with `:`, array elements addressed by their 0-based index, and a
  literal `:` inside a key is escaped as `::`;
- booleans are `1`/`0`, null is the empty string, numbers their decimal text;
- empty objects and arrays contribute nothing;
- entries are sorted by their flattened key path (Python/PHP SDK order), joined with `;`.

Gate requests carry the signature in `general.signature`, callbacks at the root, Payment Page
URLs as the last query parameter (signed over the unencoded values).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

SIGNATURE_KEY = "signature"
IGNORED_KEYS = frozenset({SIGNATURE_KEY, "frame_mode"})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _flatten(value: Mapping[str, Any] | list[Any], path: str, into: list[tuple[str, str]]) -> None:
    """Append the `path:value` entries of a non-empty object or array; one call per container,
    leaves are appended in place (a callback has some fifty of them)."""
    prefix = f"{path}:" if path else ""
    if isinstance(value, list):
        items: Iterable[tuple[str, Any]] = ((str(i), item) for i, item in enumerate(value))
    else:
        items = (
            (str(key).replace(":", "::"), item)
            for key, item in value.items()
            if key not in IGNORED_KEYS
        )
    for key, item in items:
        if isinstance(item, (dict, list)):  # documents are JSON: objects are dicts
            _flatten(item, prefix + key, into)
        else:
            into.append((prefix + key, _text(item)))


def string_to_sign(params: Mapping[str, Any]) -> str:
    """The `;`-joined, key-sorted `path:value` entries the HMAC is computed over."""
    entries: list[tuple[str, str]] = []
    _flatten(params, "", entries)
    return ";".join(f"{path}:{text}" for path, text in sorted(entries, key=lambda e: e[0]))


def _signature(message: bytes, secret: str) -> bytes:
    """Base64(HMAC-SHA512(secret, message)), as ASCII bytes."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha512).digest())


def sign(params: Mapping[str, Any], secret: str) -> str:
    """The Base64 signature of `params` (any `signature` inside them is ignored)."""
    return _signature(string_to_sign(params).encode("utf-8"), secret).decode("ascii")


def received_signature(document: Mapping[str, Any]) -> str | None:
    """Where the platform puts a signature: the root (callbacks) or `general` (Gate bodies)."""
    found = document.get(SIGNATURE_KEY)
    general = document.get("general")
    if found is None and isinstance(general, Mapping):
        found = general.get(SIGNATURE_KEY)
    return found if isinstance(found, str) and found else None


def signed_text(document: Mapping[str, Any], secrets: Iterable[str]) -> str | None:
    """The text the document's signature was computed over (`string_to_sign`, flattened once
    whatever the number of secrets) when it matches any active secret (constant-time compare),
    else None. Every `signature` key is left out of it, as the SDKs' `checkSignature` does."""
    received = received_signature(document)
    if received is None:
        return None
    received_bytes = received.encode("utf-8", errors="replace")
    text = string_to_sign(document)
    message = text.encode("utf-8")
    matched = False
    for secret in secrets:
        if secret:
            matched |= hmac.compare_digest(_signature(message, secret), received_bytes)
    return text if matched else None


def is_valid(document: Mapping[str, Any], secrets: Iterable[str]) -> bool:
    """True when the document's signature matches any active secret (constant-time compare)."""
    return signed_text(document, secrets) is not None


def with_signature(body: dict[str, Any], secret: str) -> dict[str, Any]:
    """A Gate request body with `general.signature` set (the body's other fields signed)."""
    general = dict(body.get("general") or {})
    general.pop(SIGNATURE_KEY, None)
    unsigned = {**body, "general": general}
    return {**unsigned, "general": {**general, SIGNATURE_KEY: sign(unsigned, secret)}}
