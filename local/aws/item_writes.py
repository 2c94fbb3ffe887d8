"""Every item write the local AWS process applies, with the item before and after it, for
pricing (bench/write_cost.py computes table and index write units from them by DynamoDB's
rules; `make soak-local` records them).

`PAYGATE_ITEM_WRITES_FILE=<path>` in the local AWS process's environment makes `install()`
append one JSON line per item write to that file: `table`, `op` (`Put`, `Update`,
`Delete`), `txn` (the number of the `TransactWriteItems` it was part of, else null),
`outcome` (`written`; `condition_failed`: a refused condition, which DynamoDB charges at
the existing item's size; `cancelled`: written, then undone with its transaction) and
`old` / `new` (the item in DynamoDB JSON, or null when there was none). moto serves one
call at a time (`moto_process._serialize_requests`), so the transaction being applied is
a plain module variable."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any

from moto.dynamodb.exceptions import ConditionalCheckFailed, TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

ENVIRONMENT_VARIABLE = "PAYGATE_ITEM_WRITES_FILE"
_lock = threading.Lock()
_sink: list[Path] = []
_transaction: dict[str, Any] = {"number": 0, "open": None}


def _image(item: Any) -> dict[str, Any] | None:
    if item is None:
        return None
    attributes: dict[str, Any] = item.to_json()["Attributes"]
    # A copy that later writes cannot change; binary values as Base64 text (DynamoDB JSON).
    copied: dict[str, Any] = json.loads(json.dumps(attributes, default=_base64))
    return copied


def _base64(value: object) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)  # never fail the write being recorded


def _key(backend: DynamoDBBackend, table_name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    table = backend.get_table(table_name)
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _emit(records: list[dict[str, Any]]) -> None:
    with _lock, _sink[0].open("a", encoding="utf-8") as sink:
        for record in records:
            sink.write(json.dumps(record, separators=(",", ":")) + "\n")


def _recorded(op: str, original: Any) -> Any:
    def write(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        table_name = str(kwargs.get("table_name", args[0] if args else ""))
        given = args[1] if len(args) > 1 else kwargs.get("item_attrs", kwargs.get("key"))
        key = _key(self, table_name, dict(given or {}))
        old = _image(self.get_item(table_name, key))
        record: dict[str, Any] = {"table": table_name, "op": op, "old": old}
        open_transaction = _transaction["open"]
        record["txn"] = _transaction["number"] if open_transaction is not None else None
        try:
            result = original(self, *args, **kwargs)
        except ConditionalCheckFailed:
            record |= {"outcome": "condition_failed", "new": old}
            if open_transaction is None:
                _emit([record])
            raise
        record |= {"outcome": "written", "new": _image(self.get_item(table_name, key))}
        if open_transaction is None:
            _emit([record])
        else:
            open_transaction.append(record)
        return result

    return write


def _transactional(original: Any) -> Any:
    def transact(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        _transaction["number"] += 1
        records: list[dict[str, Any]] = []
        _transaction["open"] = records
        try:
            result = original(self, *args, **kwargs)
        except TransactionCanceledException:
            for record in records:
                record["outcome"] = "cancelled"
            raise
        finally:
            _transaction["open"] = None
            _emit(records)
        return result

    return transact


def install(path: Path) -> None:
    """Record every item write from now on into `path` (once per process; after
    `moto_dynamodb.install`, whose transactions call the backend's own writes)."""
    if _sink:
        return
    _sink.append(path)
    for op, name in (("Put", "put_item"), ("Update", "update_item"), ("Delete", "delete_item")):
        setattr(DynamoDBBackend, name, _recorded(op, getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = _transactional(  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items
    )


def install_from_environment() -> None:
    path = os.environ.get(ENVIRONMENT_VARIABLE)
    if path:
        install(Path(path))
