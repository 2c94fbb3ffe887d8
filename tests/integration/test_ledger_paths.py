"""The one-call webhook path (conditional update in place) stores exactly what the
read-then-write path stores, and costs what the performance targets promise."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.aws.provision import Provisioned
from paygate.domain import (
    Failure,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    QrAction,
    WebhookOutcome,
)
from paygate.ledger import Ledger
from paygate.records import WebhookRecord
from paygate.repository import PaymentRepository
from paygate.transition import decide, forward

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)

UPDATES = [
    ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=50000, provider_reference="r1"),
    ProviderUpdate(status=PaymentStatus.SUCCEEDED),
    ProviderUpdate(status=PaymentStatus.PROCESSING, provider_reference="r2"),
    ProviderUpdate(
        status=PaymentStatus.FAILED,
        failure=Failure(code="provider_declined", message="no", provider_code="00029"),
    ),
]


@pytest.fixture
def repository(aws: Provisioned) -> PaymentRepository:
    return PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1))


def payment(payment_id: str) -> Payment:
    return Payment(
        id=payment_id, provider=Provider.PAYPRO, method=Method.VIETQR, amount=50000,
        merchant_reference="o", status=PaymentStatus.REQUIRES_ACTION, version=2,
        next_action=QrAction(payment_link="https://x"), created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def stored_item(repository: PaymentRepository, payment_id: str) -> dict[str, Any]:
    found = repository.get(payment_id)
    assert found is not None
    return found.model_dump(exclude={"id"})


def record(key: str, payment_id: str) -> WebhookRecord:
    return WebhookRecord(
        provider=Provider.PAYPRO, dedupe_key=key, payment_id=payment_id,
        outcome=WebhookOutcome.APPLIED, body={},
    )  # fmt: skip


@pytest.mark.parametrize("update", UPDATES)
def test_in_place_equals_read_then_write(repository: PaymentRepository, update: Any) -> None:
    """The blind forward write (webhook fast path) and the write decided after a read store
    the same item, and both equal what the ledger returns (`Transition.applied_to`)."""
    repository.create(payment("pay_a"))
    repository.create(payment("pay_b"))
    repository.advance_in_place(
        "pay_a", forward(Provider.PAYPRO, update), NOW, record("a", "pay_a")
    )
    before = repository.get("pay_b")
    assert before is not None
    decided = decide(before, update)
    assert decided is not None
    changed = repository.save_change(before, decided, NOW, record("b", "pay_b"))
    assert stored_item(repository, "pay_a") == stored_item(repository, "pay_b")
    assert stored_item(repository, "pay_b") == changed.model_dump(exclude={"id"})


@pytest.fixture
def dynamodb_calls() -> Iterator[Counter[str]]:
    """Counts every DynamoDB API call made through boto3's default session."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("before-call.dynamodb", count)
    yield calls
    session.events.unregister("before-call.dynamodb", count)


def test_webhook_costs(repository: PaymentRepository, dynamodb_calls: Counter[str]) -> None:
    ledger = Ledger(PaymentRepository(repository.table_name, timedelta(days=1)))
    repository.create(payment("pay_c"))
    success = ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=50000)

    def cost(key: str, update: ProviderUpdate, payment_id: str = "pay_c") -> tuple[str, int, int]:
        dynamodb_calls.clear()
        outcome = ledger.ingest(Provider.PAYPRO, key, {}, update, payment_id=payment_id)
        writes = dynamodb_calls["TransactWriteItems"] + dynamodb_calls["PutItem"]
        return outcome.value, sum(dynamodb_calls.values()), writes

    assert cost("k1", success) == ("applied", 1, 1)
    assert cost("k1", success)[:2] == ("duplicate", 1)  # the failed transaction wrote nothing
    assert cost("k2", ProviderUpdate(status=PaymentStatus.PROCESSING)) == ("stale", 2, 2)
    assert cost("k3", success, payment_id="pay_none") == ("unknown_payment", 2, 2)
    repository.create(payment("pay_d"))
    mismatch = ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=1)
    assert cost("k4", mismatch, payment_id="pay_d") == ("applied", 2, 2)
    assert stored_item(repository, "pay_d")["status"] == PaymentStatus.NEEDS_REVIEW


ODD_BODY = {"": {"": 1}, "amount": "50000.10", "note": "Thanh toán đơn hàng", "n": 1.5, "l": []}


def test_a_webhook_body_is_stored_as_compressed_json_and_old_map_items_still_read(
    repository: PaymentRepository, aws: Provisioned
) -> None:
    """The body is one binary attribute, the document's JSON text compressed, exactly (empty
    keys, Vietnamese text, numbers as received); an item written before, with the body as a
    map, reads back as the same document in the payment's timeline."""
    repository.record_webhook(record("k-text", "pay_t").model_copy(update={"body": ODD_BODY}))
    client = boto3.client("dynamodb")
    table = repository.table_name
    key = {"pk": {"S": "WEBHOOK#paypro#k-text"}, "sk": {"S": "WEBHOOK"}}
    item = client.get_item(TableName=table, Key=key)["Item"]
    assert json.loads(zlib.decompress(item["body"]["B"])) == ODD_BODY
    old = {**item, "pk": {"S": "WEBHOOK#paypro#k-map"}, "dedupe_key": {"S": "k-map"}}
    old["body"] = {"M": {"amount": {"S": "50000.10"}, "n": {"N": "1.5"}, "l": {"L": []}}}
    client.put_item(TableName=table, Item=old)
    bodies = {r.dedupe_key: r.body for r in repository.callbacks("pay_t")}
    assert bodies == {"k-text": ODD_BODY, "k-map": {"amount": "50000.10", "n": 1.5, "l": []}}
