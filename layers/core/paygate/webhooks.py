"""One webhook flow for every provider: verify → parse → store once → apply → answer.

A provider supplies a `WebhookContract` (its signature check, its wire model, the dedupe key,
our payment id, the mapping to a `ProviderUpdate`, and optional hooks for follow-ups such as
Smart Glocal's auto-confirm); `ingest` owns the rest: the signature metric and 401, the
malformed-body 400, masking before storage, and the ledger call that stores the notification
exactly once in the same transaction as the change it causes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from paygate.domain import Payment, Provider, ProviderUpdate, WebhookOutcome
from paygate.errors import MalformedRequest, SignatureInvalid
from paygate.json_body import json_object
from paygate.ledger import Ledger
from paygate.masking import erase
from paygate.observability import logger, metrics


class WebhookContract[M: BaseModel](ABC):
    """What one provider's notifications are: how they are signed and read, and what they say.

    `subject` names the body in a malformed-body answer ("notify field tradeNo is missing or
    invalid"), `signature_field` the missing or invalid signature; `ack` is the answer the
    provider expects once the notification is stored."""

    model: type[M]
    subject: ClassVar[str]
    signature_field: ClassVar[str]
    ack: ClassVar[Any]

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @abstractmethod
    def verify(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """True when the body as received carries a valid signature (any active secret)."""

    def read(self, raw: bytes) -> dict[str, Any]:
        """The body as the document to validate and store (a JSON object)."""
        return json_object(raw)

    def verified(self, raw: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The document when the signature is valid, else None: the raw bytes are verified,
        then read. A provider that signs the document's values overrides this to read once."""
        return self.read(raw) if self.verify(raw, headers) else None

    @abstractmethod
    def dedupe_key(self, message: M, document: dict[str, Any]) -> str:
        """The same notification (a redelivery) gives the same key."""

    @abstractmethod
    def payment_id(self, message: M) -> str | None:
        """Our payment id, when the notification carries it."""

    def provider_reference(self, message: M) -> str | None:
        """The provider's reference, to find the payment when our id is missing."""
        return None

    @abstractmethod
    def update(self, message: M) -> ProviderUpdate | None:
        """What the notification reports, mapped; None for a type we do not know (stored,
        counted and acknowledged; it changes nothing)."""

    def message_type(self, message: M) -> str | None:
        """The provider's name for the notification's type, for logs."""
        return None

    # -- hooks: provider-specific follow-ups ---------------------------------------------------

    def needs_payment(self, update: ProviderUpdate) -> bool:
        """True when `adjust` and `after_stored` need the payment as it was before."""
        return False

    def adjust(self, payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
        """The update to apply, given the payment (only when `needs_payment`)."""
        return update

    def after_stored(self, payment: Payment, message: M) -> None:
        """Runs once per newly stored notification (never for a redelivery), after the ledger
        applied it (only when `needs_payment`; `payment` is as it was before)."""
        return None


class DocumentSignedContract[M: BaseModel](WebhookContract[M]):
    """A provider that signs the values of the document it sends (not the raw bytes): the body
    is read once (`read`, numbers as received), then its signature is checked."""

    @abstractmethod
    def signature_valid(self, document: dict[str, Any]) -> bool:
        """True when the document's signature matches any active secret."""

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        return self.verified(raw, headers) is not None

    def verified(self, raw: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
        document = self.read(raw)
        return document if self.signature_valid(document) else None


def ingest(
    ledger: Ledger,
    contract: WebhookContract[Any],
    raw: bytes,
    headers: Mapping[str, str] | None = None,
) -> WebhookOutcome:
    """Verify, parse, store once and apply one notification; the outcome to acknowledge.
    Raises `SignatureInvalid` (401) or `MalformedRequest` (400); nothing is stored then."""
    document = contract.verified(raw, headers or {})
    if document is None:
        metrics.add_metric(name="WebhookSignatureInvalid", unit=MetricUnit.Count, value=1)
        field = contract.signature_field
        raise SignatureInvalid(f"missing or invalid {field}", field=field)
    message = _parse(contract, document)
    provider = contract.provider
    key, stored = contract.dedupe_key(message, document), erase(document)
    payment_id, reference = contract.payment_id(message), contract.provider_reference(message)
    update = contract.update(message)
    if update is None:
        metrics.add_metric(name="WebhookUnknownType", unit=MetricUnit.Count, value=1)
        logger.warning(
            f"unknown {provider.value} {contract.subject} type",
            extra={"type": contract.message_type(message)},
        )
        payment = ledger.find(provider, payment_id, reference)
        return ledger.record_unapplied(
            provider, key, stored, payment_id=payment.id if payment else payment_id
        )
    before = (
        ledger.find(provider, payment_id, reference) if contract.needs_payment(update) else None
    )
    if before is not None:
        update = contract.adjust(before, update)
        payment_id = before.id
    outcome = ledger.ingest(
        provider, key, stored, update, payment_id=payment_id, provider_reference=reference
    )
    if before is not None and outcome is not WebhookOutcome.DUPLICATE:
        contract.after_stored(before, message)
    return outcome


def _parse[M: BaseModel](contract: WebhookContract[M], document: dict[str, Any]) -> M:
    try:
        return contract.model.model_validate(document)
    except ValidationError as exc:
        field = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise MalformedRequest(
            f"{contract.subject} field {field} is missing or invalid", field=field
        ) from exc
