"""Reading a request or webhook body that must be one JSON object."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from paygate.errors import MalformedRequest


def json_object(raw: str | bytes, *, numbers_as_text: bool = False) -> dict[str, Any]:
    """The body as a JSON object, or `MalformedRequest`. With `numbers_as_text`, numbers keep
    the exact text received (for signatures computed over field values)."""
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
