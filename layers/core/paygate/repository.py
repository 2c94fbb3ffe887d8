"""The payments ledger in DynamoDB: the only module that talks to DynamoDB.

One table, two kinds of item:
- payment: `pk = PAYMENT#<id>`, `sk = PAYMENT`, `entity = payment`, `provider_ref` for the
  `by_provider_reference` index, and while it is not final `reconcile_due`/`reconcile_at`
  for the sparse `by_reconcile_due` index. Every change is a conditional write on `version`.
- webhook: `pk = WEBHOOK#<provider>#<dedupe key>`, `sk = WEBHOOK`, `entity = webhook`, the
  masked raw notification and `expires_at` (TTL). Written with `attribute_not_exists(pk)` in
  the same transaction as the state change it caused, so a redelivery changes nothing.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from paygate import deadline
from paygate.domain import Payment, PaymentStatus, Provider, ProviderUpdate
from paygate.errors import ConcurrentUpdate, StorageBusy
from paygate.records import WebhookRecord

PROVIDER_REFERENCE_INDEX = "by_provider_reference"
RECONCILE_INDEX = "by_reconcile_due"
RECONCILE_DUE = "due"  # the sparse index's only partition: set while a payment is not final
# Who wrote a payment item last: the ledger (a change the merchant sees: its stream record is
# published) or the reconcile schedule (no version bump: the stream filter drops it, so no
# `publish_status` invocation is spent on it).
WRITTEN_BY = "written_by"
BY_LEDGER = "ledger"
BY_SCHEDULE = "schedule"
FIRST_RECONCILE_AFTER = timedelta(seconds=60)
EMPTY_KEY = "<empty key>"
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
STORAGE_ATTEMPTS = 4
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


def _busy(exc: ClientError) -> bool:
    """A refusal that says "not now" rather than "no": conflicts and throttling."""
    code = exc.response.get("Error", {}).get("Code")
    if code in BUSY_ERRORS:
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
    return bool(reasons & BUSY_REASONS) and "ConditionalCheckFailed" not in reasons


def _payment_key(payment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "PAYMENT"}}


def _provider_ref(provider: Provider, reference: str) -> str:
    return f"{provider.value}#{reference}"


def _storable(value: Any) -> Any:
    """DynamoDB takes no floats (stored as exact decimals) and numbers of at most 38 digits
    (magnitude 1e-130 to 1e126): a number it cannot hold is kept as its text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
        digits = len(number.as_tuple().digits)
        exponent = number.adjusted() if number else 0
        if digits > 38 or not -130 <= exponent <= 125:
            return str(value)
        return number if isinstance(value, float) else value
    if isinstance(value, dict):  # an empty key breaks stream readers: it is renamed
        return {(key or EMPTY_KEY): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _to_item(document: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(_storable(value)) for key, value in document.items()}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _payment_item(payment: Payment) -> dict[str, Any]:
    document = payment.model_dump(mode="json", exclude_none=True)
    document.update(entity="payment", pk=f"PAYMENT#{payment.id}", sk="PAYMENT")
    document[WRITTEN_BY] = BY_LEDGER
    if payment.status.is_terminal:
        for name in ("reconcile_at", "reconcile_attempts", "reconcile_not_found_since"):
            document.pop(name, None)
    else:  # in the sparse reconcile index until final
        due = payment.reconcile_at or payment.created_at + FIRST_RECONCILE_AFTER
        document.update(reconcile_due=RECONCILE_DUE, reconcile_at=_timestamp(due))
    if payment.provider_reference:
        document["provider_ref"] = _provider_ref(payment.provider, payment.provider_reference)
    return _to_item(document)


class PaymentRepository:
    """Reads and conditional writes of payments and their webhooks."""

    def __init__(self, table_name: str, retention: timedelta, client: Any = None) -> None:
        self.table_name = table_name
        self.retention = retention
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("dynamodb")

    def _call(self, operation: str, **request: Any) -> Any:
        """One DynamoDB call; conflicts and throttling are retried with jittered backoff while
        the invocation's deadline allows, then raised as `StorageBusy`."""
        for attempt in range(STORAGE_ATTEMPTS):
            try:
                return getattr(self.client, operation)(**request)
            except ClientError as exc:
                if not _busy(exc):
                    raise
                pause = random.uniform(0, STORAGE_BACKOFF_SECONDS * 2**attempt)  # noqa: S311
                if attempt == STORAGE_ATTEMPTS - 1 or not deadline.allows(pause + 0.1):
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
            "Item": _payment_item(payment),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def create(self, payment: Payment) -> None:
        """Insert a new payment; its id must not exist."""
        self._call("put_item", **self.creation(payment))

    def get(self, payment_id: str) -> Payment | None:
        answer = self._call(
            "get_item", TableName=self.table_name, Key=_payment_key(payment_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return Payment.model_validate(_from_item(item)) if item else None

    def find_by_provider_reference(self, provider: Provider, reference: str) -> Payment | None:
        answer = self._call(
            "query",
            TableName=self.table_name,
            IndexName=PROVIDER_REFERENCE_INDEX,
            KeyConditionExpression="provider_ref = :ref",
            ExpressionAttributeValues={":ref": {"S": _provider_ref(provider, reference)}},
            Limit=1,
        )
        items = answer.get("Items") or []
        return Payment.model_validate(_from_item(items[0])) if items else None

    def due(self, now: datetime, limit: int) -> list[Payment]:
        """Non-final payments whose next status query is due (the sparse reconcile index)."""
        answer = self._call(
            "query",
            TableName=self.table_name,
            IndexName=RECONCILE_INDEX,
            KeyConditionExpression="reconcile_due = :due AND reconcile_at <= :now",
            ExpressionAttributeValues={
                ":due": {"S": RECONCILE_DUE},
                ":now": {"S": _timestamp(now)},
            },
            Limit=limit,
        )
        return [Payment.model_validate(_from_item(i)) for i in answer.get("Items") or []]

    def next_due(self) -> datetime | None:
        """When the earliest non-final payment is next due for a status query (None: none)."""
        answer = self._call(
            "query",
            TableName=self.table_name,
            IndexName=RECONCILE_INDEX,
            KeyConditionExpression="reconcile_due = :due",
            ExpressionAttributeValues={":due": {"S": RECONCILE_DUE}},
            ProjectionExpression="reconcile_at",
            ScanIndexForward=True,
            Limit=1,
        )
        items = answer.get("Items") or []
        if not items or "reconcile_at" not in items[0]:
            return None
        return datetime.fromisoformat(str(items[0]["reconcile_at"]["S"]).replace("Z", "+00:00"))

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
            ":at": {"S": _timestamp(at)},
            ":attempts": {"N": str(attempts)},
            ":version": {"N": str(payment.version)},
        }
        expression = "SET reconcile_at = :at, reconcile_attempts = :attempts, #by = :by"
        values[":by"] = {"S": BY_SCHEDULE}
        if not_found_since is None:
            expression += " REMOVE reconcile_not_found_since"
        else:
            expression += ", reconcile_not_found_since = :missing"
            values[":missing"] = {"S": _timestamp(not_found_since)}
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=_payment_key(payment.id),
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

    def save_change(
        self, previous: Payment, updated: Payment, webhook: WebhookRecord | None = None
    ) -> None:
        """Replace `previous` by `updated` if nobody changed it meanwhile, storing `webhook`
        in the same transaction. Raises `ConcurrentUpdate` or `DuplicateWebhook`."""
        payment_put = {
            "Put": {
                "TableName": self.table_name,
                "Item": _payment_item(updated),
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(previous.version)}},
            }
        }
        if webhook is None:
            try:
                self._call("put_item", **payment_put["Put"])
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    raise ConcurrentUpdate(f"payment {previous.id} changed meanwhile") from exc
                raise
            return
        items = [payment_put, {"Put": self._webhook_put(webhook)}]
        try:
            self._call("transact_write_items", TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise DuplicateWebhook(webhook.dedupe_key) from exc
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConcurrentUpdate(f"payment {previous.id} changed meanwhile") from exc
            raise

    def advance_in_place(
        self,
        payment_id: str,
        provider: Provider,
        update: ProviderUpdate,
        allowed_from: frozenset[PaymentStatus],
        now: datetime,
        webhook: WebhookRecord,
    ) -> None:
        """Apply `update` and store `webhook` in one transaction without reading first: the
        payment must exist, belong to `provider`, be in `allowed_from`, and (for a success)
        match the reported amount and currency. Raises `DuplicateWebhook`, or `ChangeRefused`
        carrying the current payment (returned by the failed condition, so no extra read)."""
        expression = _AdvanceExpression(provider, update, allowed_from, now)
        payment_update = {
            "Update": {
                "TableName": self.table_name,
                "Key": _payment_key(payment_id),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                **expression.as_request(),
            }
        }
        items = [payment_update, {"Put": self._webhook_put(webhook)}]
        try:
            self._call("transact_write_items", TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
                raise DuplicateWebhook(webhook.dedupe_key) from exc
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                item = reasons[0].get("Item")
                current = Payment.model_validate(_from_item(item)) if item else None
                raise ChangeRefused(current) from exc
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
        document = webhook.model_dump(mode="json", exclude_none=True)
        expires_at = webhook.received_at + self.retention
        document.update(
            entity="webhook",
            pk=f"WEBHOOK#{webhook.provider.value}#{webhook.dedupe_key}",
            sk="WEBHOOK",
            expires_at=int(expires_at.timestamp()),
        )
        return {
            "TableName": self.table_name,
            "Item": _to_item(document),
            "ConditionExpression": "attribute_not_exists(pk)",
        }


class _AdvanceExpression:
    """The UpdateExpression and ConditionExpression that move a payment forward in place,
    with the same effect as `paygate.ledger.advance` on the stored record."""

    def __init__(
        self,
        provider: Provider,
        update: ProviderUpdate,
        allowed_from: frozenset[PaymentStatus],
        now: datetime,
    ) -> None:
        self.names: dict[str, str] = {"#status": "status", "#version": "version", "#by": WRITTEN_BY}
        self.values: dict[str, Any] = {}
        sets = ["#status = :target", "#version = #version + :one", "updated_at = :now", "#by = :by"]
        self._value(":by", BY_LEDGER)
        removes: list[str] = []
        self._value(":target", update.status.value)
        self._value(":one", 1)
        self._value(":now", _timestamp(now))
        keeps_action = update.status is PaymentStatus.REQUIRES_ACTION and update.next_action
        if keeps_action and update.next_action is not None:
            sets.append("next_action = :next_action")
            self._value(":next_action", update.next_action.model_dump(mode="json"))
        else:
            removes.append("next_action")
        if update.failure is not None:
            sets.append("failure = :failure")
            self._value(":failure", update.failure.model_dump(mode="json", exclude_none=True))
        else:
            removes.append("failure")
        if update.provider_reference:
            sets += ["provider_reference = :reference", "provider_ref = :reference_key"]
            self._value(":reference", update.provider_reference)
            self._value(":reference_key", _provider_ref(provider, update.provider_reference))
        if update.amount_received is not None:
            sets.append("amount_received = :received")
            self._value(":received", update.amount_received)
        if update.status.is_terminal:  # out of the sparse reconcile index
            removes += ["reconcile_due", "reconcile_at", "reconcile_not_found_since"]
        conditions = ["attribute_exists(pk)", "provider = :provider"]
        self._value(":provider", provider.value)
        statuses = sorted(status.value for status in allowed_from) or ["-"]
        for index, status in enumerate(statuses):
            self._value(f":from{index}", status)
        conditions.append(f"#status IN ({', '.join(f':from{i}' for i in range(len(statuses)))})")
        if update.status is PaymentStatus.SUCCEEDED:
            if update.amount_received is not None:
                conditions.append("amount = :received")
            if update.currency is not None:
                conditions.append("currency = :currency")
                self._value(":currency", update.currency)
        self.update = (
            "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        )
        self.condition = " AND ".join(conditions)

    def _value(self, name: str, value: Any) -> None:
        self.values[name] = _serializer.serialize(_storable(value))

    def as_request(self) -> dict[str, Any]:
        return {
            "UpdateExpression": self.update,
            "ConditionExpression": self.condition,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }
