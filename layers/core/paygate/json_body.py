"""Reading a request or webhook body that must be one JSON object."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from paygate.errors import MalformedRequest

# Deeper than any request or provider document (a platform callback nests 4 levels): a bound
# checked before parsing, so a hostile body is a 400, never a RecursionError.
MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def check_depth(raw: str | bytes, limit: int = MAX_DEPTH) -> None:
    """`MalformedRequest` naming the limit when arrays and objects nest deeper than `limit`
    (brackets inside strings do not count)."""
    data = raw.encode("utf-8", errors="replace") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:  # too few to nest that deep: most bodies
        return
    depth = 0
    for bracket in _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS):
        depth = depth + 1 if bracket in _OPENING else depth - 1
        if depth > limit:
            raise MalformedRequest(
                f"body nests arrays or objects deeper than {limit} levels", field="body"
            )


def json_object(raw: str | bytes, *, numbers_as_text: bool = False) -> dict[str, Any]:
    """The body as a JSON object, or `MalformedRequest` (also for nesting deeper than
    `MAX_DEPTH`). With `numbers_as_text`, numbers keep the exact text received (for signatures
    computed over field values)."""
    check_depth(raw or b"")
    as_text = {"parse_int": str, "parse_float": str} if numbers_as_text else {}
    try:
        document = json.loads(raw or b"", **as_text)  # type: ignore[arg-type]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedRequest("body is not valid JSON") from exc
    if not isinstance(document, dict):
        raise MalformedRequest("body must be a JSON object")
    return document


def body_bytes(body: str | None, is_base64_encoded: bool) -> bytes:
    """The request body exactly as received: API Gateway hands text bodies over as they came
    (UTF-8) and binary ones Base64-encoded."""
    if not body:
        return b""
    if is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedRequest("body is not valid Base64") from exc
    return body.encode("utf-8")
