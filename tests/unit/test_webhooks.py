"""The one webhook flow (`paygate.webhooks.ingest`) with a small contract: what it owns
(signature refusal and metric, malformed bodies, masking, store-once, the ledger call, the
hooks' once-per-stored-notification guarantee), independent of any provider."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, Field

from paygate.domain import (
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    WebhookOutcome,
)
from paygate.errors import MalformedRequest, SignatureInvalid
from paygate.ledger import Ledger
from paygate.observability import metrics
from paygate.webhooks import WebhookContract, ingest
from tests.conftest import metric_names
from tests.support.memory import MemoryRepository

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


class Note(BaseModel):
    id: str = Field(min_length=1)
    state: str
    sign: str


class Notes(WebhookContract[Note]):
    """Signed by `sign == "good"`; `state` is our status, `held` asks for the hooks."""

    model = Note
    subject = "note"
    signature_field = "sign"
    ack = "OK"

    def __init__(self) -> None:
        super().__init__(Provider.PAYPRO)
        self.adjusted: list[str] = []
        self.followed: list[str] = []

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        return json.loads(raw).get("sign") == "good"

    def dedupe_key(self, message: Note, document: dict[str, Any]) -> str:
        return f"{message.id}|{message.state}"

    def payment_id(self, message: Note) -> str:
        return message.id

    def update(self, message: Note) -> ProviderUpdate | None:
        if message.state == "mystery":
            return None
        status = PaymentStatus.PENDING if message.state == "held" else PaymentStatus(message.state)
        return ProviderUpdate(status=status)

    def needs_payment(self, update: ProviderUpdate) -> bool:
        return update.status is PaymentStatus.PENDING

    def adjust(self, payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
        self.adjusted.append(payment.status.value)
        return update.model_copy(update={"status": PaymentStatus.REQUIRES_CONFIRMATION})

    def after_stored(self, payment: Payment, message: Note) -> None:
        self.followed.append(payment.id)


@pytest.fixture
def ledger() -> Ledger:
    repository = MemoryRepository()
    repository.create(
        Payment(
            id="pay_1",
            provider=Provider.PAYPRO,
            method=Method.VIETQR,
            amount=50000,
            merchant_reference="o",
            status=PaymentStatus.CREATED,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    return Ledger(repository, clock=lambda: NOW)  # type: ignore[arg-type]


def flushed_metrics(capsys: pytest.CaptureFixture[str]) -> set[str]:
    metrics.flush_metrics()
    return metric_names(capsys.readouterr().out)


def body(state: str, sign: str = "good", payment_id: str = "pay_1") -> bytes:
    return json.dumps({"id": payment_id, "state": state, "sign": sign}).encode()


def test_an_invalid_signature_is_refused_counted_and_stores_nothing(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SignatureInvalid) as refused:
        ingest(ledger, Notes(), body("succeeded", sign="bad"))
    assert (refused.value.message, refused.value.field) == ("missing or invalid sign", "sign")
    assert ledger.repository.webhooks == {}  # type: ignore[attr-defined]
    assert ledger.get("pay_1").status is PaymentStatus.CREATED
    assert "WebhookSignatureInvalid" in flushed_metrics(capsys)


def test_a_signed_body_the_model_refuses_is_a_malformed_request_naming_the_field(
    ledger: Ledger,
) -> None:
    raw = json.dumps({"id": "", "state": "succeeded", "sign": "good"}).encode()
    with pytest.raises(MalformedRequest) as malformed:
        ingest(ledger, Notes(), raw)
    assert malformed.value.message == "note field id is missing or invalid"
    assert malformed.value.field == "id"


def test_a_notification_is_stored_masked_once_and_applied_once(ledger: Ledger) -> None:
    assert ingest(ledger, Notes(), body("succeeded")) is WebhookOutcome.APPLIED
    assert ingest(ledger, Notes(), body("succeeded")) is WebhookOutcome.DUPLICATE
    payment = ledger.get("pay_1")
    assert (payment.status, payment.version) == (PaymentStatus.SUCCEEDED, 2)
    webhooks = ledger.repository.webhooks  # type: ignore[attr-defined]
    (stored,) = webhooks.values()
    assert stored.body["sign"] != "good"  # masked before it is stored


def test_a_type_the_contract_does_not_know_is_stored_and_changes_nothing(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ingest(ledger, Notes(), body("mystery")) is WebhookOutcome.STALE
    assert ingest(ledger, Notes(), body("mystery")) is WebhookOutcome.DUPLICATE
    assert ledger.get("pay_1").version == 1
    assert "WebhookUnknownType" in flushed_metrics(capsys)


def test_hooks_see_the_payment_before_and_follow_up_once_per_stored_notification(
    ledger: Ledger,
) -> None:
    notes = Notes()
    assert ingest(ledger, notes, body("held")) is WebhookOutcome.APPLIED
    assert ingest(ledger, notes, body("held")) is WebhookOutcome.DUPLICATE
    assert notes.adjusted == ["created", "requires_confirmation"]  # as it was, per delivery
    assert notes.followed == ["pay_1"]  # never for the redelivery
    assert ledger.get("pay_1").status is PaymentStatus.REQUIRES_CONFIRMATION  # adjusted update


def test_no_hook_runs_for_updates_that_do_not_ask_for_the_payment(ledger: Ledger) -> None:
    notes = Notes()
    ingest(ledger, notes, body("processing"))
    assert (notes.adjusted, notes.followed) == ([], [])


def test_the_smartglocal_contract_reads_its_signature_header_in_any_case() -> None:
    """API Gateway may hand headers over in any case; the docs' test vector signs `{}`."""
    from paygate.providers.smartglocal.webhook import SmartglocalWebhooks
    from tests.unit.test_smartglocal_signing import EXPECTED, PUBLIC

    contract = SmartglocalWebhooks(lambda: [PUBLIC], 1, lambda payment, session: None)
    assert contract.verify(b"{}", {"X-PARTNER-SIGN": EXPECTED})
    assert contract.verify(b"{}", {"x-partner-sign": EXPECTED})
    assert not contract.verify(b"{}", {})
    assert not contract.verify(b"{ }", {"x-partner-sign": EXPECTED})  # not the bytes signed
