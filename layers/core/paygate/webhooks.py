"""One webhook flow for every provider: verify → parse strictly → check → confirm → store once
→ apply → answer.

A provider supplies a `WebhookContract` (its signature check, its strict wire model, the
checks a signature cannot make, the dedupe key, our payment id, the mapping to a
`ProviderUpdate`, an optional confirmation by the provider's status query, and hooks for
follow-ups such as Smart Glocal's auto-confirm); `ingest` owns the rest: the signature metric
and 401, the refused-document 400 (counted), the freshness check, masking before storage, and
the ledger call that stores the notification exactly once in the same transaction as the
change it causes. A valid signature is necessary, never sufficient (docs/security.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from paygate.domain import (
    Kind,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    WebhookOutcome,
    kind_of,
)
from paygate.errors import MalformedRequest, NotificationRefused, ProviderError, SignatureInvalid
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
    # Where the provider signs a time: the field named in a refusal for age.
    signed_time_field: ClassVar[str | None] = None

    def __init__(self, provider: Provider, checks: WebhookChecks | None = None) -> None:
        self.provider = provider
        self.checks = checks or WebhookChecks()

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

    # -- what a signature cannot say ---------------------------------------------------------

    def check(self, message: M) -> None:
        """Refuse (`NotificationRefused`, naming the field) a well-formed, signed notification
        that is not ours to apply: another merchant's project, for example."""
        return None

    def signed_at(self, message: M) -> datetime | None:
        """The time the provider signed into the notification, when it signs one."""
        return None

    def confirm(self, payment_id: str, message: M) -> ProviderUpdate:
        """The provider's status query for `payment_id`, mapped like a notification (only when
        `checks.confirm` is on). Raises `ProviderError` when the query cannot answer."""
        raise NotImplementedError(f"{self.provider.value} has no status query here")

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


# How far ahead of our clock a signed time may be (clocks drift; a time further ahead is a
# notification made to stay "fresh" for longer than the provider's retry window).
MAX_CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class WebhookChecks:
    """A provider's settings for what a signature cannot prove: `max_age`, how old a signed
    time may be (None: the provider signs none, or the check is off); `confirm`, whether a
    money-moving result is confirmed by the provider's status query before it counts. A signed
    time is never accepted more than `MAX_CLOCK_SKEW` ahead of our clock."""

    max_age: timedelta | None = None
    confirm: bool = False


def moves_money(update: ProviderUpdate, kind: Kind) -> bool:
    """A result that says money moved (success, or moved-but-not-as-asked) or, for a payout, a
    decline: the one that invites the merchant to pay again."""
    if update.status in (PaymentStatus.SUCCEEDED, PaymentStatus.NEEDS_REVIEW):
        return True
    return kind is Kind.PAYOUT and update.status is PaymentStatus.FAILED


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
    """Verify, parse, check, confirm, store once and apply one notification; the outcome to
    acknowledge. Raises `SignatureInvalid` (401) or `MalformedRequest` (400: unreadable, out of
    its documented format, not ours, or too old); nothing is stored then."""
    document = contract.verified(raw, headers or {})
    if document is None:
        metrics.add_metric(name="WebhookSignatureInvalid", unit=MetricUnit.Count, value=1)
        field = contract.signature_field
        raise SignatureInvalid(f"missing or invalid {field}", field=field)
    message = _refusing(contract, document, ledger.clock)
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
    if payment_id and contract.checks.confirm and moves_money(update, kind_of(payment_id)):
        confirmed = _confirmed(contract, payment_id, message, update)
        if confirmed is None:
            return ledger.record_unapplied(
                provider, key, stored, payment_id=payment_id, outcome=WebhookOutcome.UNCONFIRMED
            )
        update = confirmed
    outcome = ledger.ingest(
        provider, key, stored, update, payment_id=payment_id, provider_reference=reference
    )
    if before is not None and outcome is not WebhookOutcome.DUPLICATE:
        contract.after_stored(before, message)
    return outcome


def _refusing[M: BaseModel](
    contract: WebhookContract[M], document: dict[str, Any], clock: Callable[[], datetime]
) -> M:
    """The notification, parsed strictly and checked (ours, fresh); any refusal is counted."""
    try:
        message = _parse(contract, document)
        contract.check(message)
        _check_fresh(contract, message, clock())
    except MalformedRequest as refused:
        metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
        logger.warning(
            f"{contract.provider.value} {contract.subject} refused",
            extra={"field": refused.field, "reason": refused.code},
        )
        raise
    return message


def _check_fresh[M: BaseModel](contract: WebhookContract[M], message: M, now: datetime) -> None:
    """The signed time (when the provider signs one) is at most `MAX_CLOCK_SKEW` ahead of our
    clock and, with `checks.max_age`, at most that old."""
    signed = contract.signed_at(message)
    if signed is None:
        return
    if signed - now > MAX_CLOCK_SKEW:
        raise NotificationRefused(
            f"{contract.subject} was signed at {signed.isoformat()}, more than "
            f"{MAX_CLOCK_SKEW.total_seconds():.0f} s ahead of the gateway's clock",
            field=contract.signed_time_field,
        )
    max_age = contract.checks.max_age
    if max_age is not None and now - signed > max_age:
        raise NotificationRefused(
            f"{contract.subject} was signed at {signed.isoformat()}, more than "
            f"{max_age.total_seconds():.0f} s ago: older than the provider's retry window",
            field=contract.signed_time_field,
        )


def _confirmed[M: BaseModel](
    contract: WebhookContract[M], payment_id: str, message: M, update: ProviderUpdate
) -> ProviderUpdate | None:
    """What the provider's status query says of a money-moving notification: the notification's
    update when they agree, the query's when they do not (the query wins, and the disagreement
    is counted), None when the query cannot answer (the notification waits for
    reconciliation)."""
    try:
        queried = contract.confirm(payment_id, message)
    except ProviderError as error:
        metrics.add_metric(name="WebhookUnconfirmed", unit=MetricUnit.Count, value=1)
        logger.warning(
            "status query could not confirm a notification",
            extra={"payment_id": payment_id, "error": error.code},
        )
        return None
    agrees = (queried.status, queried.amount_received) == (update.status, update.amount_received)
    if agrees:
        return update
    metrics.add_metric(name="WebhookConfirmationDisagreed", unit=MetricUnit.Count, value=1)
    logger.warning(
        "status query contradicts a notification; the query wins",
        extra={"payment_id": payment_id, "notified": update.status, "queried": queried.status},
    )
    return queried


def _parse[M: BaseModel](contract: WebhookContract[M], document: dict[str, Any]) -> M:
    try:
        return contract.model.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        reason = (
            "is not a documented field"
            if error["type"] == "extra_forbidden"
            else ("is missing or invalid")
        )
        raise MalformedRequest(f"{contract.subject} field {field} {reason}", field=field) from exc
