"""The payments ledger in DynamoDB: the only module that talks to DynamoDB.

One table, three kinds of item:
- payment: `pk = PAYMENT#<id>`, `sk = PAYMENT`, `entity = payment`, `provider_ref` for the
  `by_provider_reference_keys` index, and while it is not final `reconcile_due`/`reconcile_at`
  for the sparse `by_reconcile_due` index. Every status change is one conditional write
  whose ConditionExpression (and, written in place, UpdateExpression) is generated from its
  `paygate.transition.Transition` (`paygate.table_items`); after a read, also on `version`.
- payout reference: `pk = payout_ref#<merchant_reference>`, `sk = REFERENCE`, `payout_id`: the
  payout that holds the reference, claimed in the create's transaction (one payout per order).
- webhook: `pk = WEBHOOK#<provider>#<dedupe key>`, `sk = WEBHOOK`, `entity = webhook`, the
  masked raw notification (`body`: its JSON text, compressed, `table_items.packed_body`;
  older items hold a map) and `expires_at` (TTL). Written with `attribute_not_exists(pk)` in
  the same transaction as the state change it caused, so a redelivery changes nothing.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from paygate import aws_clients, clock, deadline
from paygate.api_keys import ApiKeyRecord
from paygate.domain import Kind, Payment, PayoutDestination, Provider, kind_of
from paygate.errors import ConcurrentUpdate, StorageBusy
from paygate.records import DueEntry, WebhookRecord
from paygate.shards import reconcile_due_partitions
from paygate.table_items import (
    BY_ERASURE,
    BY_PROVIDER_REFERENCE,
    BY_PROVIDER_REFERENCE_KEYS,
    BY_REFERENCE,
    BY_REFERENCE_KEYS,
    BY_SCHEDULE,
    LEASE_FIELDS,
    LISTED_AT,
    REFERENCE_KEY,
    WRITTEN_BY,
    Expression,
    ListQuery,
    ShardAnswer,
    packed_body,
    payment_document,
    provider_ref,
    reference_key,
    storable,
    timestamp,
    transition_condition,
    transition_update,
    unpacked_body,
)
from paygate.transition import Transition

BATCH_GET_KEYS = 100  # DynamoDB's most keys per BatchGetItem
LIST_PARALLEL_QUERIES = 8  # a list page's partition Queries in flight at once
# The reconcile schedule (sparse: only payments still queried carry its keys) by shard
# (`due#NN`, and `due` for items written before sharding), projecting the keys, `provider`
# and `lease_due` only. `by_reconcile_due` (projection ALL) is no longer read.
DUE_INDEX = "by_due"
CALLBACKS_INDEX = "by_payment"  # webhook items by the payment they were for (the timeline)
# DynamoDB's "not now" answers: retried with jittered backoff inside the deadline, then
# `StorageBusy` (503 with Retry-After). Real DynamoDB cancels a transaction with reason
# `TransactionConflict` when another request changes the same item at the same moment.
BUSY_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
BUSY_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
# Every request is built here from typed documents, and DynamoDB validates each one itself:
# botocore's client-side parameter validation (a walk over every nested attribute value, about
# a fifth of a warm webhook's CPU) is off, as botocore's docs offer "for performance reasons".
CLIENT_CONFIG = Config(parameter_validation=False)  # merged into `aws_clients.CONFIG`
STORAGE_ATTEMPTS = 4
# A payment's personal fields: what an erasure rewrites (docs/privacy.md).
ERASABLE_FIELDS = ("customer_id", "next_action", "destination", "description", "metadata")
STORAGE_BACKOFF_SECONDS = 0.05
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class DuplicateWebhook(Exception):
    """This notification (same dedupe key) was stored before."""


class ChangeRefused(Exception):
    """A conditional advance did not apply; `current` is the payment as it is (None if absent)."""

    def __init__(self, current: Payment | None) -> None:
        super().__init__("the payment does not accept this change as it is")
        self.current = current


def payment_key(payment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "PAYMENT"}}


def reference_item_key(merchant_reference: str) -> dict[str, Any]:
    """The item that says which payout holds a merchant reference (one payout per order)."""
    return {"pk": {"S": f"payout_ref#{merchant_reference}"}, "sk": {"S": "REFERENCE"}}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _entry(key: dict[str, Any]) -> tuple[str, str]:
    """A list index entry's (`listed_at`, payment id), from its item or position."""
    return str(key[LISTED_AT]["S"]), str(key["pk"]["S"]).removeprefix("PAYMENT#")


def to_item(document: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(storable(value)) for key, value in document.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _busy(exc: ClientError) -> bool:
    """A refusal that says "not now" rather than "no": conflicts and throttling."""
    code = exc.response.get("Error", {}).get("Code")
    if code in BUSY_ERRORS:
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
    return bool(reasons & BUSY_REASONS) and "ConditionalCheckFailed" not in reasons


class PaymentRepository:
    """Reads and conditional writes of payments and their webhooks."""

    def __init__(
        self,
        table_name: str,
        retention: timedelta,
        client: Any = None,
        reference_indexes: str = "narrow",
    ) -> None:
        self.table_name = table_name
        self.retention = retention
        self._client = client
        # `narrow`: the KEYS_ONLY / INCLUDE reference indexes, then the items by key; `wide`:
        # the ALL ones, while a live table migrates (docs/migration.md).
        self.narrow = reference_indexes == "narrow"

    @property
    def reference_index(self) -> str:
        """The index an order's payments are found in."""
        return BY_REFERENCE_KEYS if self.narrow else BY_REFERENCE

    @cached_property
    def client(self) -> Any:
        return self._client or aws_clients.client("dynamodb", config=CLIENT_CONFIG)

    def _call(self, operation: str, **request: Any) -> Any:
        """One DynamoDB call; conflicts and throttling are retried with jittered backoff while
        the pause and one more attempt fit in the invocation's deadline
        (`aws_clients.attempt_seconds`), then raised as `StorageBusy`."""
        for attempt in range(STORAGE_ATTEMPTS):
            try:
                return getattr(self.client, operation)(**request)
            except (BotoConnectionError, HTTPClientError) as exc:
                # No answer (a timeout or a broken connection, after botocore's retries): not
                # known to be written; the caller retries, and the next write's conditions see.
                raise StorageBusy(
                    f"the payments table did not answer ({type(exc).__name__}); retry"
                ) from exc
            except ClientError as exc:
                if not _busy(exc):
                    raise
                pause = random.uniform(0, STORAGE_BACKOFF_SECONDS * 2**attempt)  # noqa: S311
                if attempt == STORAGE_ATTEMPTS - 1 or not deadline.allows(
                    pause + aws_clients.attempt_seconds()
                ):
                    code = exc.response.get("Error", {}).get("Code")
                    raise StorageBusy(
                        f"the payments table is busy ({code}); nothing was written, retry"
                    ) from exc
                time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def creation(self, payment: Payment) -> dict[str, Any]:
        """The conditional put that inserts a new payment (its id must not exist), as a request:
        `create` sends it alone; a create with an Idempotency-Key sends it in the same
        transaction as the idempotency record (`paygate.idempotency`)."""
        return {
            "TableName": self.table_name,
            "Item": to_item(payment_document(payment)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def reference_holder(self, merchant_reference: str) -> str | None:
        """The payout that last claimed `merchant_reference` (one payout per order), if any."""
        answer = self._call(
            "get_item",
            TableName=self.table_name,
            Key=reference_item_key(merchant_reference),
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return str(item["payout_id"]["S"]) if item and "payout_id" in item else None

    def reference_claim(
        self, payout: Payment, replaces: str | None, *, forced: bool
    ) -> dict[str, Any]:
        """The conditional put that makes `payout` the holder of its `merchant_reference`, for
        the create's transaction: only when nobody holds it (or still `replaces`, a payout that
        ended `failed`), unless `forced` (the merchant's `allow_duplicate_reference`). A
        refused condition returns the holder (`ALL_OLD`), which the create's 409 names."""
        document = {
            **reference_item_key(payout.merchant_reference),
            "entity": {"S": "payout_reference"},
            "payout_id": {"S": payout.id},
        }
        claim: dict[str, Any] = {"TableName": self.table_name, "Item": document}
        if forced:
            return claim
        claim["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if replaces is None:
            claim["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            claim["ConditionExpression"] = "payout_id = :holder"
            claim["ExpressionAttributeValues"] = {":holder": {"S": replaces}}
        return claim

    def create(self, payment: Payment) -> None:
        """Insert a new payment; its id must not exist."""
        self._call("put_item", **self.creation(payment))

    def get(self, payment_id: str) -> Payment | None:
        answer = self._call(
            "get_item", TableName=self.table_name, Key=payment_key(payment_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return Payment.model_validate(from_item(item)) if item else None

    def find_by_provider_reference(self, provider: Provider, reference: str) -> Payment | None:
        """The payment with this provider reference: its key from the keys-only index, then
        the item itself (one strongly consistent GetItem)."""
        answer = self._call(
            "query",
            TableName=self.table_name,
            IndexName=BY_PROVIDER_REFERENCE_KEYS if self.narrow else BY_PROVIDER_REFERENCE,
            KeyConditionExpression="provider_ref = :ref",
            ExpressionAttributeValues={":ref": {"S": provider_ref(provider, reference)}},
            Limit=1,
        )
        items = answer.get("Items") or []
        if not items:
            return None
        if not self.narrow:
            return Payment.model_validate(from_item(items[0]))
        return self.get(str(items[0]["pk"]["S"]).removeprefix("PAYMENT#"))

    def with_reference(self, kind: Kind, merchant_reference: str, limit: int) -> list[Payment]:
        """The newest `limit` payments (or payouts) with this merchant reference (the
        reference index, eventually consistent); from the narrow index, as it holds them:
        id, kind, provider, method, status, amount and reference (what a warning names)."""
        answer = self._call(
            "query",
            TableName=self.table_name,
            IndexName=self.reference_index,
            KeyConditionExpression="#key = :key",
            ExpressionAttributeNames={"#key": REFERENCE_KEY},
            ExpressionAttributeValues={":key": {"S": reference_key(kind, merchant_reference)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Payment.model_validate(from_item(item)) for item in answer.get("Items") or []]

    def list_entries(self, queries: list[ListQuery]) -> list[ShardAnswer]:
        """One `Query` per list partition, sent at once (each on its own connection): what
        each found, in the order of `queries`."""
        if len(queries) <= 1:
            return [self._list_entries(query) for query in queries]
        _ = self.client  # the cached client is made once, before the threads share it
        # Each call runs in a copy of this context: the invocation's deadline goes with it.
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=min(LIST_PARALLEL_QUERIES, len(queries))) as pool:
            return list(
                pool.map(lambda query: context.copy().run(self._list_entries, query), queries)
            )

    def _list_entries(self, query: ListQuery) -> ShardAnswer:
        answer = self._call("query", TableName=self.table_name, **query.request())
        entries = [_entry(item) for item in answer.get("Items") or []]
        last = answer.get("LastEvaluatedKey")
        return ShardAnswer(entries, _entry(last) if last else None)

    def payments_by_id(self, payment_ids: list[str]) -> dict[str, Payment]:
        """The payments with these ids (at most `BATCH_GET_KEYS`), by one `BatchGetItem`,
        eventually consistent; keys DynamoDB leaves unprocessed are asked again (at most
        `STORAGE_ATTEMPTS` rounds, with jittered backoff inside the deadline), then
        `StorageBusy`. An id with no item is left out."""
        if len(payment_ids) > BATCH_GET_KEYS:
            raise ValueError(f"at most {BATCH_GET_KEYS} payments per BatchGetItem")
        found: dict[str, Payment] = {}
        keys = [payment_key(payment_id) for payment_id in dict.fromkeys(payment_ids)]
        for attempt in range(STORAGE_ATTEMPTS):
            if not keys:
                break
            if attempt:
                pause = random.uniform(0, STORAGE_BACKOFF_SECONDS * 2**attempt)  # noqa: S311
                if not deadline.allows(pause + aws_clients.attempt_seconds()):
                    break
                time.sleep(pause)
            answer = self._call("batch_get_item", RequestItems={self.table_name: {"Keys": keys}})
            for item in answer.get("Responses", {}).get(self.table_name, []):
                payment = Payment.model_validate(from_item(item))
                found[payment.id] = payment
            keys = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        if keys:
            raise StorageBusy(
                f"the payments table left {len(keys)} of a page's items unread; retry"
            )
        return found

    def callbacks(self, payment_id: str) -> list[WebhookRecord]:
        """Every stored notification for the payment (the `by_payment` index, eventually
        consistent), in no particular order; one past its `expires_at` is gone (DynamoDB's TTL
        deletes it within days, not at once)."""
        records: list[WebhookRecord] = []
        now = int(clock.now().timestamp())
        start: dict[str, Any] | None = None
        while True:
            page = self._call(
                "query",
                TableName=self.table_name,
                IndexName=CALLBACKS_INDEX,
                KeyConditionExpression="payment_id = :id",
                ExpressionAttributeValues={":id": {"S": payment_id}},
                **({"ExclusiveStartKey": start} if start else {}),
            )
            for item in page["Items"]:
                if int(item.get("expires_at", {}).get("N", now + 1)) <= now:
                    continue
                document = from_item(item)
                body = document["body"]
                document["body"] = unpacked_body(body.value if isinstance(body, Binary) else body)
                records.append(WebhookRecord.model_validate(document))
            start = page.get("LastEvaluatedKey")
            if not start:
                return records

    def due(self, now: datetime, limit: int) -> list[Payment]:
        """Non-final payments whose next status query is due, earliest first, read in full
        (the sequential loop, `Reconciler.run`; the dispatcher reads `due_page`)."""
        entries: list[DueEntry] = []
        for partition in reconcile_due_partitions():
            entries += self.due_page(partition, now, limit)[0]
        entries.sort(key=lambda entry: entry.due_at)
        found = (self.get(entry.payment_id) for entry in entries[:limit])
        return [payment for payment in found if payment is not None]

    def due_page(
        self,
        partition: str,
        now: datetime,
        limit: int,
        start: dict[str, Any] | None = None,
    ) -> tuple[list[DueEntry], dict[str, Any] | None]:
        """One page of one partition of the sparse schedule index (`by_due`, keys and the
        immutable `provider` only): the payments due at `now`, earliest first, and where the
        next page starts (None: none due after them)."""
        answer = self._call(
            "query",
            TableName=self.table_name,
            IndexName=DUE_INDEX,
            KeyConditionExpression="reconcile_due = :due AND reconcile_at <= :now",
            ExpressionAttributeValues={":due": {"S": partition}, ":now": {"S": timestamp(now)}},
            Limit=limit,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        entries = [
            DueEntry(
                payment_id=str(item["pk"]["S"]).removeprefix("PAYMENT#"),
                provider=Provider(item["provider"]["S"]),
                reconcile_at=str(item["reconcile_at"]["S"]),
                due_at=_moment(str((item.get("lease_due") or item["reconcile_at"])["S"])),
            )
            for item in answer.get("Items") or []
            if "provider" in item
        ]
        return entries, answer.get("LastEvaluatedKey")

    def next_due(self) -> datetime | None:
        """When the earliest non-final payment is next due for a status query (None: none)."""
        found = [self.earliest_due(partition) for partition in reconcile_due_partitions()]
        return min((moment for moment in found if moment is not None), default=None)

    def earliest_due(self, partition: str) -> datetime | None:
        """The earliest `reconcile_at` of one partition of the schedule index (None: empty)."""
        answer = self._call(
            "query",
            TableName=self.table_name,
            IndexName=DUE_INDEX,
            KeyConditionExpression="reconcile_due = :due",
            ExpressionAttributeValues={":due": {"S": partition}},
            ProjectionExpression="reconcile_at",
            ScanIndexForward=True,
            Limit=1,
        )
        items = answer.get("Items") or []
        if not items or "reconcile_at" not in items[0]:
            return None
        return _moment(str(items[0]["reconcile_at"]["S"]))

    def lease(self, entry: DueEntry, lease_id: str, now: datetime, until: datetime) -> bool:
        """Lease a due payment to a worker until `until`: its `reconcile_at` moves there, so
        the due query skips it while leased and finds it again when the lease runs out (a
        crashed worker). Only while it is still due (`reconcile_at <= now`): of two
        dispatchers, one wins. False when it was not due any more (leased, settled, ended)."""
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=payment_key(entry.payment_id),
                UpdateExpression=(
                    "SET reconcile_at = :until, lease_until = :until, lease_id = :lease, "
                    "lease_due = if_not_exists(lease_due, :due), #by = :by REMOVE claimed_until"
                ),
                ConditionExpression="attribute_exists(reconcile_due) AND reconcile_at <= :now",
                ExpressionAttributeNames={"#by": WRITTEN_BY},
                ExpressionAttributeValues={
                    ":until": {"S": timestamp(until)},
                    ":lease": {"S": lease_id},
                    ":due": {"S": timestamp(entry.due_at)},
                    ":now": {"S": timestamp(now)},
                    ":by": {"S": BY_SCHEDULE},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def claim(
        self, payment_id: str, lease_id: str, now: datetime, held_until: datetime, until: datetime
    ) -> Payment | None:
        """A worker takes a leased payment: only under the lease its message names and when no
        other worker holds it (`claimed_until` passed: that worker ended or crashed); the lease
        is extended to `until`. The payment as stored, or None (another lease or worker has it,
        or it was settled meanwhile: the message is done)."""
        try:
            answer = self._call(
                "update_item",
                TableName=self.table_name,
                Key=payment_key(payment_id),
                UpdateExpression=(
                    "SET claimed_until = :held, reconcile_at = :until, lease_until = :until, "
                    "#by = :by"
                ),
                ConditionExpression=(
                    "attribute_exists(reconcile_due) AND lease_id = :lease AND "
                    "(attribute_not_exists(claimed_until) OR claimed_until <= :now)"
                ),
                ExpressionAttributeNames={"#by": WRITTEN_BY},
                ExpressionAttributeValues={
                    ":held": {"S": timestamp(held_until)},
                    ":until": {"S": timestamp(until)},
                    ":lease": {"S": lease_id},
                    ":now": {"S": timestamp(now)},
                    ":by": {"S": BY_SCHEDULE},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return Payment.model_validate(from_item(answer["Attributes"]))

    def reschedule(
        self,
        payment: Payment,
        at: datetime,
        attempts: int,
        not_found_since: datetime | None = None,
    ) -> bool:
        """Set the next status query (and since when the provider has not known the payment),
        unless the payment changed meanwhile (then its new state decides). No version bump:
        nothing the merchant sees changes."""
        values: dict[str, Any] = {
            ":at": {"S": timestamp(at)},
            ":attempts": {"N": str(attempts)},
            ":version": {"N": str(payment.version)},
        }
        expression = "SET reconcile_at = :at, reconcile_attempts = :attempts, #by = :by"
        values[":by"] = {"S": BY_SCHEDULE}
        removes = list(LEASE_FIELDS)  # the lease (if any) ends with the query it was for
        if not_found_since is None:
            removes.append("reconcile_not_found_since")
        else:
            expression += ", reconcile_not_found_since = :missing"
            values[":missing"] = {"S": timestamp(not_found_since)}
        expression += " REMOVE " + ", ".join(removes)
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=payment_key(payment.id),
                UpdateExpression=expression,
                ConditionExpression="#version = :version AND attribute_exists(reconcile_due)",
                ExpressionAttributeNames={"#version": "version", "#by": WRITTEN_BY},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def end_schedule(self, payment: Payment) -> bool:
        """Take an ended payment out of the reconcile index (its tail of queries is over),
        unless it changed meanwhile. No version bump: nothing the merchant sees changes."""
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=payment_key(payment.id),
                UpdateExpression=(
                    "SET #by = :by REMOVE reconcile_due, reconcile_at, reconcile_attempts, "
                    "reconcile_not_found_since, " + ", ".join(LEASE_FIELDS)
                ),
                ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#version": "version", "#by": WRITTEN_BY},
                ExpressionAttributeValues={
                    ":version": {"N": str(payment.version)},
                    ":by": {"S": BY_SCHEDULE},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def save_change(
        self,
        previous: Payment,
        transition: Transition,
        now: datetime,
        webhook: WebhookRecord | None = None,
    ) -> Payment:
        """Write `previous` after `transition` (read before: the whole item is put), if nobody
        changed it meanwhile, storing `webhook` in the same transaction; the payment as
        stored. The condition is the transition's (`transition_condition`) and the version
        read. Raises `ConcurrentUpdate` or `DuplicateWebhook`."""
        changed = transition.applied_to(previous, now)
        condition = transition_condition(transition, previous.version)
        put = {
            "TableName": self.table_name,
            "Item": to_item(payment_document(changed)),
            "ConditionExpression": condition.text,
            **self._terms(condition),
        }
        refusal = ConcurrentUpdate(f"payment {previous.id} changed meanwhile")
        self._write("Put", put, webhook, lambda _: refusal)
        return changed

    def advance_in_place(
        self, payment_id: str, transition: Transition, now: datetime, webhook: WebhookRecord
    ) -> None:
        """Apply `transition` and store `webhook` in one transaction without reading first:
        one conditional update, both expressions generated from the transition. Raises
        `DuplicateWebhook`, or `ChangeRefused` carrying the current payment when the stored
        payment does not admit it (returned by the failed condition, so no extra read)."""
        condition = transition_condition(transition)
        update = transition_update(transition, now, kind_of(payment_id), payment_id)
        request = {
            "TableName": self.table_name,
            "Key": payment_key(payment_id),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            "UpdateExpression": update.text,
            "ConditionExpression": condition.text,
            **self._terms(condition, update),
        }

        def refused(item: dict[str, Any] | None) -> Exception:
            return ChangeRefused(Payment.model_validate(from_item(item)) if item else None)

        self._write("Update", request, webhook, refused)

    @staticmethod
    def _terms(*expressions: Expression) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        for expression in expressions:
            names |= expression.names
            values |= {k: _serializer.serialize(v) for k, v in expression.values.items()}
        return {"ExpressionAttributeNames": names, "ExpressionAttributeValues": values}

    def _write(
        self,
        operation: str,
        request: dict[str, Any],
        webhook: WebhookRecord | None,
        refused: Callable[[dict[str, Any] | None], Exception],
    ) -> None:
        """One conditional `Put` or `Update` of a payment, alone or in a transaction with the
        webhook it came from; a failed condition raises `refused(the item as it is)`."""
        try:
            if webhook is None:
                call = "put_item" if operation == "Put" else "update_item"
                self._call(call, **request)
                return
            items = [{operation: request}, {"Put": self._webhook_put(webhook)}]
            self._call("transact_write_items", TransactItems=items)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                raise refused(exc.response.get("Item")) from exc
            if code != "TransactionCanceledException" or webhook is None:
                raise
            reasons = exc.response.get("CancellationReasons", [])
            if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
                raise DuplicateWebhook(webhook.dedupe_key) from exc
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise refused(reasons[0].get("Item")) from exc
            raise

    def record_webhook(self, webhook: WebhookRecord) -> None:
        """Store a notification that changes no payment. Raises `DuplicateWebhook`."""
        try:
            self._call("put_item", **self._webhook_put(webhook))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise DuplicateWebhook(webhook.dedupe_key) from exc
            raise

    def _webhook_put(self, webhook: WebhookRecord) -> dict[str, Any]:
        document = webhook.model_dump(mode="json", exclude_none=True, exclude={"body"})
        document["body"] = packed_body(webhook.body)  # never queried by its fields
        expires_at = webhook.received_at + self.retention
        document.update(
            entity="webhook",
            pk=f"WEBHOOK#{webhook.provider.value}#{webhook.dedupe_key}",
            sk="WEBHOOK",
            expires_at=int(expires_at.timestamp()),
        )
        return {
            "TableName": self.table_name,
            "Item": to_item(document),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    # -- erasure of one customer's personal data (ops/erase_customer.py, docs/privacy.md) -----

    def _scan(self, **request: Any) -> list[dict[str, Any]]:
        """Every item a Scan of the table returns for `request` (all pages), untyped."""
        found: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self._call(
                "scan",
                TableName=self.table_name,
                **request,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            found.extend(from_item(item) for item in page.get("Items") or [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def customer_payments(self, customer_id: str) -> list[Payment]:
        """Every payment and payout created for the merchant's customer `customer_id` (a Scan
        of the table: erasure is rare; no index holds the customer)."""
        items = self._scan(
            FilterExpression="entity = :payment AND customer_id = :customer",
            ExpressionAttributeValues={
                ":payment": {"S": "payment"},
                ":customer": {"S": customer_id},
            },
        )
        return [Payment.model_validate(item) for item in items]

    def all_payments(self) -> list[Payment]:
        """Every payment and payout (a Scan: the erasure by email looks in each)."""
        items = self._scan(
            FilterExpression="entity = :payment",
            ExpressionAttributeValues={":payment": {"S": "payment"}},
        )
        return [Payment.model_validate(item) for item in items]

    def erase_personal(self, payment: Payment, erased: Payment) -> bool:
        """Write `erased`'s personal fields (customer id, next action, payout destination,
        description, metadata) over `payment`'s, unless it changed meanwhile. No version bump
        and not published: the erasure is no status change (`written_by = erasure`)."""
        update = Expression()
        sets = [f"{update.name(WRITTEN_BY)} = {update.value('by', BY_ERASURE)}"]
        removes: list[str] = []
        for field in ERASABLE_FIELDS:
            value = getattr(erased, field)
            if value is None or value == {}:
                removes.append(update.name(field))
            else:
                sets.append(f"{update.name(field)} = {update.value(field, value)}")
        removing = " REMOVE " + ", ".join(removes) if removes else ""
        update.text = "SET " + ", ".join(sets) + removing
        return self._update_unless_changed(payment, update)

    def retire_destination(self, payout: Payment, destination: PayoutDestination | None) -> bool:
        """Store a final payout's `destination` (masked by the ledger) and take the payout out
        of the reconcile schedule, unless it changed meanwhile. No version bump and not
        published: nothing the merchant is told about changes."""
        update = Expression()
        sets = [f"{update.name(WRITTEN_BY)} = {update.value('by', BY_SCHEDULE)}"]
        if destination is not None:
            sets.append(f"{update.name('destination')} = {update.value('to', destination)}")
        schedule = ("reconcile_due", "reconcile_at", "reconcile_attempts")
        removes = ", ".join((*schedule, "reconcile_not_found_since", *LEASE_FIELDS))
        update.text = "SET " + ", ".join(sets) + " REMOVE " + removes
        return self._update_unless_changed(payout, update)

    def _update_unless_changed(self, payment: Payment, update: Expression) -> bool:
        """Apply `update` to `payment`'s item while it is still at its version; False when it
        changed meanwhile."""
        condition = f"{update.name('version')} = {update.value('version', payment.version)}"
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=payment_key(payment.id),
                UpdateExpression=update.text,
                ConditionExpression=condition,
                **self._terms(update),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def stored_webhooks(self, payment_id: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every stored notification of the payment, expired or not: its key and its body."""
        found: list[tuple[dict[str, Any], dict[str, Any]]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self._call(
                "query",
                TableName=self.table_name,
                IndexName=CALLBACKS_INDEX,
                KeyConditionExpression="payment_id = :id",
                ExpressionAttributeValues={":id": {"S": payment_id}},
                **({"ExclusiveStartKey": start} if start else {}),
            )
            for item in page["Items"]:
                body = from_item({"body": item["body"]})["body"]
                key = {"pk": item["pk"], "sk": item["sk"]}
                found.append((key, unpacked_body(body.value if isinstance(body, Binary) else body)))
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def replace_webhook_body(self, key: dict[str, Any], body: dict[str, Any]) -> None:
        """Store `body` as the notification's body (its outcome and dedupe key unchanged)."""
        self._call(
            "update_item",
            TableName=self.table_name,
            Key=key,
            UpdateExpression="SET body = :body",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":body": {"B": packed_body(body)}},
        )

    def idempotency_records(self, table_name: str, text: str) -> list[dict[str, str]]:
        """The idempotency records (`table_name`, Powertools' layout) whose kept answer
        (`data`) contains `text`: their `id` and `data`."""
        found: list[dict[str, str]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self._call(
                "scan",
                TableName=table_name,
                FilterExpression="contains(#data, :text)",
                ExpressionAttributeNames={"#data": "data"},
                ExpressionAttributeValues={":text": {"S": text}},
                ProjectionExpression="id, #data",
                **({"ExclusiveStartKey": start} if start else {}),
            )
            found.extend(
                {"id": item["id"]["S"], "data": item["data"]["S"]} for item in page["Items"]
            )
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def replace_idempotency_data(self, table_name: str, record_id: str, data: str) -> None:
        """Store `data` as an idempotency record's kept answer (its status, expiry and
        payload hash unchanged)."""
        self._call(
            "update_item",
            TableName=table_name,
            Key={"id": {"S": record_id}},
            UpdateExpression="SET #data = :data",
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeNames={"#data": "data"},
            ExpressionAttributeValues={":data": {"S": data}},
        )


CONNECTIONS_BY_PAYMENT_INDEX = "by_payment"  # ConnectionsTable: a payment's open WebSockets


class _SideTable:
    """A small table of its own (no transactions, no retries of ours: botocore's standard
    retries suffice): no answer or throttling is `StorageBusy`, as for the payments table."""

    described = "table"

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or aws_clients.client("dynamodb", config=CLIENT_CONFIG)

    def _call(self, operation: str, **request: Any) -> Any:
        try:
            return getattr(self.client, operation)(TableName=self.table_name, **request)
        except (BotoConnectionError, HTTPClientError) as exc:
            raise StorageBusy(
                f"the {self.described} did not answer ({type(exc).__name__}); retry"
            ) from exc
        except ClientError as exc:
            if _busy(exc):
                raise StorageBusy(f"the {self.described} is busy; retry") from exc
            raise


class ConnectionRepository(_SideTable):
    """The status push's WebSocket connections (ConnectionsTable, apart from the payments
    table): `connection_id` (the key: `$disconnect` knows only that), `payment_id` (the
    `by_payment` index, KEYS_ONLY: the publisher finds a payment's connections in one Query)
    and `expires_at` (TTL: API Gateway closes a connection after two hours at most)."""

    described = "connections table"

    def add(self, connection_id: str, payment_id: str, expires_at: datetime) -> None:
        item = {
            "connection_id": {"S": connection_id},
            "payment_id": {"S": payment_id},
            "expires_at": {"N": str(int(expires_at.timestamp()))},
        }
        self._call("put_item", Item=item)

    def remove(self, connection_id: str) -> None:
        key = {"connection_id": {"S": connection_id}}
        self._call("delete_item", Key=key)

    def of_payment(self, payment_id: str, limit: int) -> list[str]:
        """Up to `limit` connection ids open on `payment_id` (one Query of the index)."""
        answer = self._call(
            "query",
            IndexName=CONNECTIONS_BY_PAYMENT_INDEX,
            KeyConditionExpression="payment_id = :payment",
            ExpressionAttributeValues={":payment": {"S": payment_id}},
            Limit=limit,
        )
        return [item["connection_id"]["S"] for item in answer.get("Items", [])]


class ApiKeyRepository(_SideTable):
    """The merchant API keys (`paygate.api_keys`): one item per key in their own table,
    `key_id` its key; the key itself is never stored, only its SHA-256."""

    described = "API keys table"

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        answer = self._call("get_item", Key={"key_id": {"S": key_id}}, ConsistentRead=True)
        item = answer.get("Item")
        return ApiKeyRecord.model_validate(from_item(item)) if item else None

    def put_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new key; its id must not exist."""
        document = record.model_dump(mode="json", exclude_none=True)
        document["scopes"] = set(document["scopes"])
        self._call(
            "put_item", Item=to_item(document), ConditionExpression="attribute_not_exists(key_id)"
        )

    def api_keys(self) -> list[ApiKeyRecord]:
        """Every key, revoked ones included (a Scan: an operator's listing, never a request's)."""
        records, start = [], None
        while True:
            page = self._call("scan", **({"ExclusiveStartKey": start} if start else {}))
            records += [ApiKeyRecord.model_validate(from_item(i)) for i in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return sorted(records, key=lambda record: record.created_at)

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        """Mark a key revoked (the first revocation's time is kept); False when no such key."""
        try:
            self._call(
                "update_item",
                Key={"key_id": {"S": key_id}},
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression="attribute_exists(key_id)",
                ExpressionAttributeValues={":now": {"S": timestamp(now)}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


CONNECTIONS_BY_PAYMENT_INDEX = "by_payment"  # ConnectionsTable: a payment's open WebSockets
