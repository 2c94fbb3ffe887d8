"""What the local AWS process (local/aws/moto_process.py) changes in moto so that its memory
per payment stays flat and bounded, keeping DynamoDB's semantics:

- `TransactWriteItems` keeps an undo log of the items it touches (a copy of each one before
  its write) and, when the transaction is cancelled, puts back exactly those items and drops
  the stream records it added. moto as shipped deep-copies every table the transaction names,
  stream shard included, before each transaction: time and memory that grow with the table.
- moto remembers every model object it ever made (`BaseModel.instances_tracked`, for its
  dashboard, which the local runtime does not serve): every item version, stream record and
  shard iterator, and every deep copy, stays in memory forever. Not any more.
- A table's stream keeps at most `STREAM_RETAINED_RECORDS` records (DynamoDB keeps them for
  24 hours; the local stream poller reads each one within moments of its write). Reading
  from before the oldest kept record is DynamoDB's `TrimmedDataAccessException`, never a
  silent gap. At most `SHARD_ITERATORS_KEPT` shard iterators are kept (DynamoDB lets them
  expire after 15 minutes; the poller takes a fresh one on every read).
- Other services' histories stay bounded too: an SNS topic keeps its last
  `NOTIFICATIONS_KEPT` published messages (moto keeps all, for inspection only), an SQS queue
  the receipt handles of its last `DELETED_HANDLES_KEPT` or so deleted messages (moto keeps
  all, to answer a repeated delete quietly).
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend
from moto.sns.models import Topic
from moto.sqs.models import Queue

STREAM_RETAINED_RECORDS = 10_000
SHARD_ITERATORS_KEPT = 1_000
TRIM_STEP = 500  # records dropped at once, not one per write
NOTIFICATIONS_KEPT = 1_000
DELETED_HANDLES_KEPT = 10_000
WRITES = ("Put", "Delete", "Update")


class TrimmedDataAccess(JsonRESTError):
    """DynamoDB Streams' answer to a read from before the oldest record it keeps."""

    code = 400

    def __init__(self, sequence_number: int, oldest: int) -> None:
        super().__init__(
            "TrimmedDataAccessException",
            f"Sequence number {sequence_number} is before the oldest record kept ({oldest}).",
        )


class _ConditionFailed(ConditionalCheckFailed):
    """A transaction item's condition failed; `item` is the item as it was when the request
    asked for it back (`ReturnValuesOnConditionCheckFailure: ALL_OLD`)."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__(item=item)
        self.item = item


class _Undo:
    """The items a transaction wrote (a copy of each one before its first write, or None
    when it did not exist) and where each table's stream shard ended before it began."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, DynamoType, DynamoType | None], tuple[Table, Item | None]] = {}
        self.stream_ends: dict[str, tuple[StreamShard, int]] = {}

    def remember(self, table: Table, key: dict[str, Any]) -> None:
        shard = table.stream_shard
        if shard is not None and table.name not in self.stream_ends:
            self.stream_ends[table.name] = (shard, _next_sequence(shard))
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        where = (table.name, hash_value, range_value)
        if where not in self.items:
            before = table.get_item(hash_value, range_value)
            self.items[where] = (table, copy.deepcopy(before))

    def roll_back(self) -> None:
        for (_, hash_value, range_value), (table, before) in self.items.items():
            if range_value is None:
                if before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before  # type: ignore[assignment]
                continue
            ranged = table.items[hash_value]
            if before is None:
                ranged.pop(range_value, None)
                if not ranged:
                    del table.items[hash_value]
            else:
                ranged[range_value] = before
        for shard, end in self.stream_ends.values():
            del shard.items[max(0, end - shard.starting_sequence_number) :]


def _next_sequence(shard: StreamShard) -> int:
    return int(shard.starting_sequence_number) + len(shard.items)


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        key: dict[str, Any] = op["Key"]
        return key
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's `transact_write_items` (moto 5.2.5) with an undo log in place of table copies:
    the same checks, the same order of writes, the same errors."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _Undo()
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        try:
            _write_one(self, item, targets, undo)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.roll_back()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), getattr(e, "item", None)))
        except Exception as e:  # moto reports each item's error, as DynamoDB does
            errors.append((type(e).__name__, str(e), None))
    if any(code is not None for code, _, _ in errors):
        undo.roll_back()
        raise TransactionCanceledException(errors)


def _write_one(
    self: DynamoDBBackend, item: dict[str, Any], targets: set[tuple[str, str]], undo: _Undo
) -> None:
    op_type, op = next(iter(item.items()))
    if op_type not in {"ConditionCheck", *WRITES}:
        raise ValueError("Unsupported transaction operation")
    table_name = op["TableName"]
    condition = op.get("ConditionExpression")
    names = op.get("ExpressionAttributeNames")
    values = op.get("ExpressionAttributeValues")
    key = _key_of(self, op_type, op)
    target = (str(table_name), str(dict(sorted(key.items()))))
    if target in targets:
        raise MultipleTransactionsException()
    targets.add(target)
    current = self.get_item(table_name, key)
    if condition is not None and not get_filter_expression(condition, names, values).expr(current):
        returned = None
        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
            returned = current.to_json()["Attributes"]
        raise _ConditionFailed(returned)
    if op_type in WRITES:
        undo.remember(self.get_table(table_name), key)
    options: dict[str, Any] = {
        "condition_expression": condition,
        "expression_attribute_names": names,
        "expression_attribute_values": values,
    }
    if op_type == "Put":
        self.put_item(table_name, op["Item"], **options)
    elif op_type == "Delete":
        self.delete_item(table_name, key, **options)
    elif op_type == "Update":
        self.update_item(table_name, key, update_expression=op["UpdateExpression"], **options)


def _trim(shard: StreamShard) -> None:
    """Drop the oldest records past the bound; sequence numbers stay as they were (the
    shard's starting sequence number moves up by what was dropped)."""
    extra = len(shard.items) - STREAM_RETAINED_RECORDS
    if extra > 0:
        del shard.items[:extra]
        shard.starting_sequence_number += extra


def _untracked_new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    instance: BaseModel = super(BaseModel, cls).__new__(cls)
    return instance


_ADD = StreamShard.add
_GET = StreamShard.get
_SHARD_ITERATOR = DynamoDBStreamsBackend.get_shard_iterator
_GET_RECORDS = DynamoDBStreamsBackend.get_records


def _adding(self: StreamShard, old: Item | None, new: Item | None) -> None:
    _ADD(self, old, new)
    if len(self.items) >= STREAM_RETAINED_RECORDS + TRIM_STEP:
        _trim(self)


def _getting(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    if start < self.starting_sequence_number:
        raise TrimmedDataAccess(start, int(self.starting_sequence_number))
    return _GET(self, start, quantity)


def _forget_old_iterators(backend: DynamoDBStreamsBackend) -> None:
    iterators = backend.shard_iterators
    while len(iterators) > SHARD_ITERATORS_KEPT:
        del iterators[next(iter(iterators))]


def _new_iterator(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> Any:
    result = _SHARD_ITERATOR(self, *args, **kwargs)
    _forget_old_iterators(self)
    return result


def _records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
    result = _GET_RECORDS(self, iterator_arn, limit)
    _forget_old_iterators(self)
    return result


_PUBLISH = Topic.publish
_DELETE_MESSAGE = Queue.delete_message


def _publishing(self: Topic, *args: Any, **kwargs: Any) -> str:
    message_id: str = _PUBLISH(self, *args, **kwargs)
    if len(self.sent_notifications) > NOTIFICATIONS_KEPT + TRIM_STEP:
        del self.sent_notifications[:-NOTIFICATIONS_KEPT]
    return message_id


def _deleting(self: Queue, receipt_handle: str) -> None:
    _DELETE_MESSAGE(self, receipt_handle)
    if len(self.deleted_messages) > 2 * DELETED_HANDLES_KEPT:  # a set: keep any half
        kept = list(self.deleted_messages)[:DELETED_HANDLES_KEPT]
        self.deleted_messages = set(kept)


def patches() -> list[tuple[type[Any], str, Any]]:
    """(class, attribute, replacement) for each change above."""
    return [
        (BaseModel, "__new__", staticmethod(_untracked_new)),
        (DynamoDBBackend, "transact_write_items", transact_write_items),
        (StreamShard, "add", _adding),
        (StreamShard, "get", _getting),
        (DynamoDBStreamsBackend, "get_shard_iterator", _new_iterator),
        (DynamoDBStreamsBackend, "get_records", _records),
        (Topic, "publish", _publishing),
        (Queue, "delete_message", _deleting),
    ]


def install() -> None:
    """Apply the changes above to moto in this process (the local AWS process)."""
    for owner, name, replacement in patches():
        setattr(owner, name, replacement)
