"""Paypro `sign`: lowercase hex MD5 over sorted `key=value` pairs with the app secret as salt.

Rule (every Paypro Vietnam API page's "Signature" section): every field except `sign`, empty
values skipped, keys sorted in code-unit order, `key=value` concatenated without separator,
then MD5 of that string salted with the app secret. Where the salt goes Paypro does not say
(appended, per the sibling platform's docs); it lives in `_salted` alone so that it can
change in one place.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

SIGN_FIELD = "sign"


def _as_text(value: Any) -> str:
    """Render a field value the way Paypro's Java `String.valueOf` would see it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def string_to_sign(fields: Mapping[str, Any]) -> str:
    """The sorted `key=value` concatenation, without `sign` and without empty values."""
    pairs = ((key, _as_text(value)) for key, value in fields.items() if key != SIGN_FIELD)
    return "".join(f"{key}={text}" for key, text in sorted(pairs) if text != "")


def _salted(payload: str, secret: str) -> str:
    """Where the app secret goes: appended to the end (not stated by Paypro; the sibling
    platform Vexora's Nigeria overview says so, with the same Java snippet)."""
    return payload + secret


def sign(fields: Mapping[str, Any], secret: str) -> str:
    """Return the lowercase hex `sign` for `fields` under `secret`."""
    salted = _salted(string_to_sign(fields), secret)
    return hashlib.md5(salted.encode("utf-8"), usedforsecurity=False).hexdigest()


def is_valid(fields: Mapping[str, Any], secrets: Iterable[str]) -> bool:
    """True when `fields["sign"]` matches any of the active secrets (constant-time compare)."""
    received = fields.get(SIGN_FIELD)
    if not isinstance(received, str) or not received:
        return False
    received_bytes = received.lower().encode("ascii", errors="replace")
    matched = False
    for secret in secrets:
        if not secret:
            continue
        expected = sign(fields, secret).encode("ascii")
        matched |= hmac.compare_digest(expected, received_bytes)
    return matched
