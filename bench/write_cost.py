"""Write units by DynamoDB's rules: the rule for one item write (`item_write_units`, which
bench/cost.py prices the local soak's writes with), and a create and a webhook measured in
three trees: a Paypro VietQR payin and a Monetix bank transfer created through the real create
handlers, then a success notification delivered to the real webhook handler, in moto, by
bench/write_cost_child.py, in this tree, in a checkout of BEFORE_NARROW_COMMIT (the reference
indexes projecting ALL) and in one of BEFORE_COMMIT (issue 15's before: by_provider_reference
and by_reconcile_due only, no status history).

From what the child saw (the AWS calls, the items before and after, the template's GSIs) this
module computes, by DynamoDB's published rules:
- item size: the UTF-8 bytes of every attribute name plus its value's size (strings: UTF-8
  bytes; numbers: 1 byte per 2 significant digits + 1; booleans and null: 1; lists and maps:
  3 bytes + 1 byte per element + the elements, a map's keys counted as names);
- write units of the webhook's one TransactWriteItems: 2 WCU per started KB of each item
  written (the payment's update on the larger of its sizes before and after, the webhook's
  put), plus per GSI the write touches 1 WCU per started KB of the index entry (projection
  ALL: the item; KEYS_ONLY / INCLUDE: the keys and the projected attributes), twice (delete +
  put) when the write changes that GSI's key, once when the item enters or leaves the index
  (a sparse one), nothing when it changes neither the key nor a projected attribute;
- write units of every item write of the create and of the delivery (`writes_units`): the
  same rule, an index entry counted with DynamoDB's 100 bytes of overhead."""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import ROOT

BEFORE_COMMIT = "83a17b0"
# Issue 24's storage change: the last commit whose reference indexes projected ALL.
BEFORE_NARROW_COMMIT = "b26b5b9"
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


INDEX_ENTRY_OVERHEAD = 100  # bytes DynamoDB adds to every index entry


def index_entry(
    keys: list[str], item: dict[str, Any], projection: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An item's entry in a GSI: the whole item (projection ALL, the default), or its index
    and table keys plus the projected attributes (KEYS_ONLY, INCLUDE)."""
    if projection is None or projection["type"] == "ALL":
        return item
    kept = {*keys, "pk", "sk", *projection.get("attributes", [])}
    return {name: value for name, value in item.items() if name in kept}


def entry_units(entry: dict[str, Any]) -> int:
    """WCU of writing one index entry: its keys and projected attributes plus the overhead."""
    return started_kb(item_size(entry) + INDEX_ENTRY_OVERHEAD)


def index_writes(
    keys: list[str],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    projection: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """What a write does to one GSI and the WCU it costs: `("none", 0)`, `("put", n)`
    (enters), `("delete", n)` (leaves), `("update", n)` (key unchanged, a projected attribute
    changed), `("delete + put", n)` (key changed); a write that changes neither the key nor a
    projected attribute writes nothing there. `after` None: the item was deleted."""
    was = before is not None and all(key in before for key in keys)
    now = after is not None and all(key in after for key in keys)
    if not was and not now:
        return "none", 0
    if not was:
        assert after is not None
        return "put", entry_units(index_entry(keys, after, projection))
    assert before is not None
    old = index_entry(keys, before, projection)
    if not now:
        return "delete", entry_units(old)
    assert after is not None
    new = index_entry(keys, after, projection)
    if all(before[key] == after[key] for key in keys):
        return ("update", entry_units(new)) if old != new else ("none", 0)
    return "delete + put", entry_units(old) + entry_units(new)


@dataclass(frozen=True)
class Index:
    """One GSI as the template declares it: its key attributes and projection."""

    keys: list[str]
    projection: dict[str, Any]


@dataclass(frozen=True)
class ItemWriteUnits:
    """The WCU of one item write: the table's and each GSI's (only those it touches)."""

    table: int
    indexes: dict[str, int]

    @property
    def total(self) -> int:
        return self.table + sum(self.indexes.values())


def item_write_units(
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    indexes: dict[str, Index],
    *,
    transactional: bool = False,
    refused: bool = False,
) -> ItemWriteUnits:
    """The write units of one item write (PutItem, UpdateItem, DeleteItem, or one item of a
    TransactWriteItems), by DynamoDB's published rules: the table 1 WCU per started KB of
    the larger of the item's sizes before and after (2 in a transaction); each GSI as
    `index_writes` says. A write whose condition failed (`refused`) costs the table 1 WCU
    per started KB of the item as it is (at least 1) and writes no index."""
    per_kb = TRANSACTIONAL if transactional else 1
    if refused:
        return ItemWriteUnits(per_kb * started_kb(item_size(before or {})), {})
    size = max(item_size(before or {}), item_size(after or {}))
    touched: dict[str, int] = {}
    for name, index in indexes.items():
        _, units = index_writes(index.keys, before, after, index.projection)
        if units:
            touched[name] = units
    return ItemWriteUnits(per_kb * started_kb(size), touched)


def template_indexes(declared: list[dict[str, Any]]) -> dict[str, Index]:
    """The GSIs of a table's `GlobalSecondaryIndexes` (already resolved), by name."""
    return {
        index["IndexName"]: Index(
            keys=[key["AttributeName"] for key in index["KeySchema"]],
            projection={
                "type": index["Projection"]["ProjectionType"],
                "attributes": index["Projection"].get("NonKeyAttributes", []),
            },
        )
        for index in declared
    }


def final_indexes(table: str = "PaymentsTable") -> dict[str, Index]:
    """`table`'s GSIs in the template's final state (every parameter at its default:
    `IndexMigrationStep`'s last step, docs/migration.md)."""
    from local.aws.template import load_template

    template = load_template()
    properties = template.document["Resources"][table]["Properties"]
    return template_indexes(template.resolved(properties.get("GlobalSecondaryIndexes", [])))


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


def writes_units(records: list[dict[str, Any]], indexes: dict[str, Index]) -> dict[str, Any]:
    """The write units of a list of recorded item writes (local/aws/item_writes.py) on the
    payments table: the table's, each index's, and the total."""
    table = 0
    touched: dict[str, int] = {}
    for record in records:
        if record["table"] != "PaymentsTable":
            continue
        units = item_write_units(
            record.get("old"),
            record.get("new"),
            indexes,
            transactional=record.get("txn") is not None,
            refused=record["outcome"] != "written",
        )
        table += units.table
        for name, value in units.indexes.items():
            touched[name] = touched.get(name, 0) + value
    return {"table": table, "indexes": touched, "wcu": table + sum(touched.values())}


def _tree_costs(seen: dict[str, Any]) -> dict[str, Any]:
    projections = seen.get("projections")  # older trees: every index projects ALL
    indexes = {
        name: Index(keys, (projections or {}).get(name, {"type": "ALL", "attributes": []}))
        for name, keys in seen["indexes"].items()
    }
    cases = {}
    for name, case in seen["cases"].items():
        cases[name] = write_cost(seen["indexes"], case, projections)
        if "create_writes" in case:  # every item write, by the same rule as the soak's
            cases[name]["create"] = writes_units(case["create_writes"], indexes)
            cases[name]["webhook"] = writes_units(case["webhook_writes"], indexes)
    return {"indexes": seen["indexes"], "cases": cases}


def _tree_at(commit: str) -> dict[str, Any] | None:
    """The costs measured in a checkout of `commit` (None: a clone without it)."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=False
        )
        if archive.returncode != 0:
            return None
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        return _tree_costs(_run_child(Path(folder)))


def measure() -> dict[str, Any]:
    after = _tree_costs(_run_child(ROOT))
    before = _tree_at(BEFORE_COMMIT)
    before_narrow = _tree_at(BEFORE_NARROW_COMMIT)
    problems = [
        f"{name}: {case['calls']} (must be one TransactWriteItems)"
        for name, case in after["cases"].items()
        if case["calls"] != ONE_CALL
    ]
    return {
        "before_commit": BEFORE_COMMIT,
        "before": before,
        "before_narrow_commit": BEFORE_NARROW_COMMIT,
        "before_narrow": before_narrow,
        "after": after,
        "problems": problems,
    }


# -- the local soak's item writes (local/aws/item_writes.py), per payment outcome ---------

OUTCOMES = {"succeeded": "paid", "expired": "expired"}  # any other final status: its own name


def _text(item: dict[str, Any] | None, name: str) -> str | None:
    value = (item or {}).get(name)
    return None if value is None else str(next(iter(value.values())))


def write_kind(record: dict[str, Any]) -> str:
    """What one recorded item write was, from its table and the item before and after."""
    old, new = record.get("old"), record.get("new")
    if record["table"] == "IdempotencyTable":
        return "idempotency record"
    if record["table"] != "PaymentsTable":
        return f"{record['table']} item"
    pk = _text(old or new, "pk") or ""
    if record["outcome"] == "condition_failed":
        return "refused (condition failed)"
    if pk.startswith("WEBHOOK#"):
        return "webhook item"
    if not pk.startswith("PAYMENT#"):
        return "other item"
    if old is None:
        return "create"
    if _text(old, "version") != _text(new, "version"):
        return "status change"
    if _text(new, "lease_id") is not None and _text(old, "lease_id") != _text(new, "lease_id"):
        return "lease"
    claimed = _text(new, "claimed_until")
    if claimed is not None and claimed != _text(old, "claimed_until"):
        return "claim"
    if _text(new, "written_by") == "schedule":
        return "reschedule or schedule end"
    return "other payment write"


def _payment_of(record: dict[str, Any]) -> str | None:
    item = record.get("new") or record.get("old")
    pk = _text(item, "pk") or ""
    if pk.startswith("PAYMENT#"):
        return pk.removeprefix("PAYMENT#")
    return _text(item, "payment_id") if pk.startswith("WEBHOOK#") else None


def soak_writes(
    records: list[dict[str, Any]], indexes: dict[str, dict[str, Index]]
) -> dict[str, Any]:
    """Write units of a soak's item writes (`indexes`: each table's GSIs), summed per payment
    outcome (its last status: `paid`, `expired`, ...), with per outcome the payments, the
    status queries (worker claims), the webhook items and the status changes; writes no
    payment owns (API keys, payout references) under `unattributed`. An idempotency record
    belongs to the payment created in its transaction. An item of a cancelled transaction
    is priced as a refused conditional write in a transaction (an assumption: AWS documents
    the charge of a failed condition, not that of a cancelled transaction)."""
    owner_of_txn: dict[int, str] = {}
    for record in records:
        payment = _payment_of(record)
        if record.get("txn") is not None and payment is not None:
            owner_of_txn.setdefault(record["txn"], payment)
    idempotency_owner: dict[str, str] = {}
    status: dict[str, str] = {}
    priced: list[tuple[str | None, str, ItemWriteUnits]] = []
    cancelled = 0
    for record in records:
        cancelled += record["outcome"] == "cancelled"
        payment = _payment_of(record)
        if record["table"] == "IdempotencyTable":
            key = _text(record.get("new") or record.get("old"), "id") or ""
            if record.get("txn") in owner_of_txn:
                idempotency_owner[key] = owner_of_txn[record["txn"]]
            payment = idempotency_owner.get(key)
        written = record["outcome"] == "written"
        if written and payment and (_text(record.get("new"), "pk") or "").startswith("PAYMENT#"):
            status[payment] = _text(record["new"], "status") or "unknown"
        units = item_write_units(
            record.get("old"),
            record.get("new"),
            indexes.get(record["table"], {}),
            transactional=record.get("txn") is not None,
            refused=record["outcome"] in ("condition_failed", "cancelled"),
        )
        kind = "cancelled transaction" if record["outcome"] == "cancelled" else write_kind(record)
        priced.append((payment, kind, units))
    outcome_of = {p: OUTCOMES.get(s, s) for p, s in status.items()}
    outcomes: dict[str, dict[str, Any]] = {}
    for name in sorted(set(outcome_of.values())):
        count = sum(1 for o in outcome_of.values() if o == name)
        outcomes[name] = {"payments": count, "wcu": 0, "writes": 0, "by_kind": {}}
    unattributed: dict[str, Any] = {"wcu": 0, "writes": 0, "by_kind": {}}
    for payment, kind, units in priced:
        into = outcomes[outcome_of[payment]] if payment in outcome_of else unattributed
        into["wcu"] += units.total
        into["writes"] += 1
        row = into["by_kind"].setdefault(kind, {"writes": 0, "table": 0, "indexes": {}})
        row["writes"] += 1
        row["table"] += units.table
        for index, value in units.indexes.items():
            row["indexes"][index] = row["indexes"].get(index, 0) + value
    for summary in outcomes.values():
        kinds = summary["by_kind"]
        summary["queries"] = kinds.get("claim", {}).get("writes", 0)
        summary["webhooks"] = kinds.get("webhook item", {}).get("writes", 0)
        summary["changes"] = kinds.get("status change", {}).get("writes", 0)
    return {"outcomes": outcomes, "unattributed": unattributed, "cancelled": cancelled}


def read_item_writes(path: Path) -> list[dict[str, Any]]:
    """The JSON lines local/aws/item_writes.py wrote."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def soak_indexes() -> dict[str, dict[str, Index]]:
    """Each table's GSIs in the template's final state (the tables the soak writes)."""
    return {name: final_indexes(name) for name in ("PaymentsTable", "ConnectionsTable")}
