"""The payments ledger in DynamoDB: the only module that talks to DynamoDB.

One table, two kinds of item:
- payment: `pk = PAYMENT#<id>`, `sk = PAYMENT`, `entity = payment`, `provider_ref` for the
  `by_provider_reference` index. Every change is a conditional write on `version`.
- webhook: `pk = WEBHOOK#<provider>#<dedupe key>`, `sk = WEBHOOK`, `entity = webhook`, the
  masked raw notification and `expires_at` (TTL). Written with `attribute_not_exists(pk)` in
  the same transaction as the state change it caused, so a redelivery changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from paygate.errors import ConcurrentUpdate
from paygate.models import Payment, Provider, WebhookRecord

PROVIDER_REFERENCE_INDEX = "by_provider_reference"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class DuplicateWebhook(Exception):
    """This notification (same dedupe key) was stored before."""


def _payment_key(payment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "PAYMENT"}}


def _provider_ref(provider: Provider, reference: str) -> str:
    return f"{provider.value}#{reference}"


def _storable(value: Any) -> Any:
    """DynamoDB takes no floats: store them as exact decimals."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _to_item(document: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(_storable(value)) for key, value in document.items()}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _payment_item(payment: Payment) -> dict[str, Any]:
    document = payment.model_dump(mode="json", exclude_none=True)
    document.update(entity="payment", pk=f"PAYMENT#{payment.id}", sk="PAYMENT")
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

    def create(self, payment: Payment) -> None:
        """Insert a new payment; its id must not exist."""
        self.client.put_item(
            TableName=self.table_name,
            Item=_payment_item(payment),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, payment_id: str) -> Payment | None:
        answer = self.client.get_item(
            TableName=self.table_name, Key=_payment_key(payment_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return Payment.model_validate(_from_item(item)) if item else None

    def find_by_provider_reference(self, provider: Provider, reference: str) -> Payment | None:
        answer = self.client.query(
            TableName=self.table_name,
            IndexName=PROVIDER_REFERENCE_INDEX,
            KeyConditionExpression="provider_ref = :ref",
            ExpressionAttributeValues={":ref": {"S": _provider_ref(provider, reference)}},
            Limit=1,
        )
        items = answer.get("Items") or []
        return Payment.model_validate(_from_item(items[0])) if items else None

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
                self.client.put_item(**payment_put["Put"])
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    raise ConcurrentUpdate(f"payment {previous.id} changed meanwhile") from exc
                raise
            return
        items = [payment_put, {"Put": self._webhook_put(webhook)}]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise DuplicateWebhook(webhook.dedupe_key) from exc
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConcurrentUpdate(f"payment {previous.id} changed meanwhile") from exc
            raise

    def record_webhook(self, webhook: WebhookRecord) -> None:
        """Store a notification that changes no payment. Raises `DuplicateWebhook`."""
        try:
            self.client.put_item(**self._webhook_put(webhook))
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
