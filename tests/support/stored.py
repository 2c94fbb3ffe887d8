"""Stored items as text a test can search: a webhook item keeps its masked body as zlib-
compressed JSON (`paygate.table_items.packed_body`), so a check for card numbers or secrets
over the raw items would never see inside it. `searchable` decodes every such body (with zlib
and json, not with the gateway's own reader) before the items are dumped."""

from __future__ import annotations

import json
import zlib
from typing import Any


def decoded(item: dict[str, Any]) -> dict[str, Any]:
    """The item with a binary `body` replaced by the document it holds."""
    body = item.get("body", {})
    if "B" not in body:
        return item
    return {**item, "body": {"decoded": json.loads(zlib.decompress(body["B"]))}}


def searchable(items: list[dict[str, Any]]) -> str:
    """The items as one JSON text, every webhook body decoded."""
    return json.dumps([decoded(item) for item in items])
