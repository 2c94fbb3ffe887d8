"""The webhook hot path's write cost, before and after issue 15: a Paypro notify on a VietQR
payin and a Monetix success callback, each delivered to the real webhook handler in moto by
bench/write_cost_child.py, once in this tree and once in a checkout of BEFORE_COMMIT (its
template: by_provider_reference and by_reconcile_due only, no status history).

From what the child saw (the AWS calls, the items before and after, the template's GSIs) this
module computes, by DynamoDB's published rules:
- item size: the UTF-8 bytes of every attribute name plus its value's size (strings: UTF-8
  bytes; numbers: 1 byte per 2 significant digits + 1; booleans and null: 1; lists and maps:
  3 bytes + 1 byte per element + the elements, a map's keys counted as names);
- write units of the one TransactWriteItems: 2 WCU per started KB of each item written (the
  payment's update on the larger of its sizes before and after, the webhook's put), plus per
  GSI the write touches 1 WCU per started KB of the index entry (projection ALL: the item;
  KEYS_ONLY / INCLUDE: the keys and the projected attributes), twice (delete + put) when the
  write changes that GSI's key, once when the item enters or leaves the index (a sparse one),
  nothing when it changes neither the key nor a projected attribute."""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import ROOT

BEFORE_COMMIT = "83a17b0"
CHILD = Path(__file__).resolve().parent / "write_cost_child.py"
KB = 1024
TRANSACTIONAL = 2  # WCU per started KB of an item written in a transaction
ONE_CALL = {"dynamodb:TransactWriteItems": 1}


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: 1 per two significant digits, plus 1."""
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len("".join(map(str, digits)).strip("0")) or 1
    return math.ceil(significant / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON (`{"S": ...}`, `{"M": {...}}`, ...)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return number_size(str(content))
    if kind == "B":  # raw bytes, or Base64 text as DynamoDB JSON carries them
        return len(base64.b64decode(content) if isinstance(content, str) else content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(item).encode()) for item in content)
    if kind == "NS":
        return sum(number_size(str(item)) for item in content)
    if kind == "BS":
        return sum(value_size({"B": item}) for item in content)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in content.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes of an item: every attribute's name and value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def started_kb(size: int) -> int:
    return max(1, math.ceil(size / KB))


def index_entry(
    keys: list[str], item: dict[str, Any], projection: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An item's entry in a GSI: the whole item (projection ALL, the default), or its index
    and table keys plus the projected attributes (KEYS_ONLY, INCLUDE)."""
    if projection is None or projection["type"] == "ALL":
        return item
    kept = {*keys, "pk", "sk", *projection.get("attributes", [])}
    return {name: value for name, value in item.items() if name in kept}


def index_writes(
    keys: list[str],
    before: dict[str, Any] | None,
    after: dict[str, Any],
    projection: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """What a write does to one GSI and the WCU it costs: `("none", 0)`, `("put", n)`
    (enters), `("delete", n)` (leaves), `("update", n)` (key unchanged, a projected attribute
    changed), `("delete + put", n)` (key changed); a write that changes neither the key nor a
    projected attribute writes nothing there."""
    was = before is not None and all(key in before for key in keys)
    now = all(key in after for key in keys)
    if not was and not now:
        return "none", 0
    new = index_entry(keys, after, projection)
    if not was:
        return "put", started_kb(item_size(new))
    assert before is not None
    old = index_entry(keys, before, projection)
    if not now:
        return "delete", started_kb(item_size(old))
    if all(before[key] == after[key] for key in keys):
        return ("update", started_kb(item_size(new))) if old != new else ("none", 0)
    return "delete + put", started_kb(item_size(old)) + started_kb(item_size(new))


def write_cost(
    indexes: dict[str, list[str]],
    case: dict[str, Any],
    projections: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Sizes and write units of one delivery's transaction (the payment's update and the
    webhook's put), each GSI's part named."""
    before, after, webhook = case["payment_before"], case["payment_after"], case["webhook"]
    sizes = {
        "payment_before": item_size(before),
        "payment_after": item_size(after),
        "webhook": item_size(webhook),
    }
    table = TRANSACTIONAL * started_kb(max(sizes["payment_before"], sizes["payment_after"]))
    table_webhook = TRANSACTIONAL * started_kb(sizes["webhook"])
    gsi: dict[str, dict[str, Any]] = {}
    for name, keys in indexes.items():
        for item, old, new in (("payment", before, after), ("webhook", None, webhook)):
            what, units = index_writes(keys, old, new, (projections or {}).get(name))
            if units:
                gsi[f"{name} ({item})"] = {"write": what, "wcu": units}
    total = table + table_webhook + sum(row["wcu"] for row in gsi.values())
    return {
        "calls": case["calls"],
        "status": case["status"],
        "bytes": sizes,
        "table_wcu": {"payment": table, "webhook": table_webhook},
        "gsi": gsi,
        "wcu": total,
    }


def _run_child(tree: Path) -> dict[str, Any]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "PYENV_VERSION")
    env = {key: value for key, value in os.environ.items() if key in keep}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.json"
        subprocess.run(
            [sys.executable, str(CHILD), str(tree), str(out)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _tree_costs(seen: dict[str, Any]) -> dict[str, Any]:
    projections = seen.get("projections")  # older trees: every index projects ALL
    return {
        "indexes": seen["indexes"],
        "cases": {
            name: write_cost(seen["indexes"], c, projections) for name, c in seen["cases"].items()
        },
    }


def measure() -> dict[str, Any]:
    after = _tree_costs(_run_child(ROOT))
    before: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE_COMMIT], capture_output=True, check=False
        )
        if archive.returncode == 0:  # a clone without that commit: no "before"
            subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
            before = _tree_costs(_run_child(Path(folder)))
    problems = [
        f"{name}: {case['calls']} (must be one TransactWriteItems)"
        for name, case in after["cases"].items()
        if case["calls"] != ONE_CALL
    ]
    return {"before_commit": BEFORE_COMMIT, "before": before, "after": after, "problems": problems}
