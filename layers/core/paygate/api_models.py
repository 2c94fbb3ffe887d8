"""The merchant API's wire models: the responses, the review body, and the one error shape
(the create, payout and clarification bodies are `paygate.api_requests`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from paygate.api_errors import ErrorDetail, ErrorResponse
from paygate.domain import (
    Cause,
    Failure,
    Method,
    NextAction,
    Payment,
    PaymentStatus,
    PayoutDestination,
    Provider,
    Review,
    ReviewDecision,
    WebhookOutcome,
)
from paygate.lifecycle import WaitWindows
from paygate.records import WebhookRecord

__all__ = ["ErrorDetail", "ErrorResponse"]  # the error shape, re-exported with the models


class ReferenceWarning(BaseModel):
    """Another payment for the same order (`merchant_reference`) that has taken, or may still
    take, the shopper's money: the create went ahead (payments are not unique by reference,
    docs/lifecycle.md), and says so."""

    code: Literal["duplicate_reference"] = "duplicate_reference"
    message: str
    payment_id: Annotated[str, Field(description="The other payment of this order")]
    status: PaymentStatus

    @classmethod
    def of(cls, other: Payment) -> ReferenceWarning:
        return cls(
            message=(
                f"payment {other.id} for the same merchant_reference is {other.status.value}: "
                "check that the shopper is not paying twice"
            ),
            payment_id=other.id,
            status=other.status,
        )


class _Document(BaseModel):
    """What a payment and a payout document share."""

    id: Annotated[str, Field(description="Our payment id")]
    provider: Provider
    method: Method
    status: PaymentStatus
    amount: Annotated[int, Field(description="Requested amount, VND major units")]
    amount_received: Annotated[
        int | None, Field(description="Amount the provider reported as paid, if it differs")
    ] = None
    currency: str
    merchant_reference: str
    provider_reference: str | None = None
    next_action: NextAction | None = None
    failure: Failure | None = None
    review: Annotated[
        Review | None, Field(description="The merchant's decision, once it reviewed the payment")
    ] = None
    version: int
    created_at: datetime
    updated_at: datetime
    client_secret: Annotated[
        str | None,
        Field(
            description="What the shopper's browser may hold instead of your API key: it reads, "
            "confirms and cancels this payment only (in `x-api-key`). On a payment's create "
            "and on its read with a merchant key; never stored, never in events"
        ),
    ] = None


class PaymentResponse(_Document):
    """A payment as the merchant API returns it."""

    expires_at: Annotated[
        AwareDatetime | None,
        Field(
            description="When the payment expires unless its customer completes it first (UTC): "
            "its method's window from its last status change. Then the gateway asks the "
            "provider once more and expires it, at its reconcile schedule's next run (each "
            "minute). Null once the payment is final, and while money is moving "
            "(`processing`): time ends neither. A frontend that polls stops 2 minutes after it"
        ),
    ] = None

    @classmethod
    def of(cls, payment: Payment, waits: WaitWindows) -> Self:
        """The document of `payment`, with the end of its window by `waits`."""
        return cls.model_validate(payment.model_dump() | {"expires_at": waits.expires_at(payment)})


class CreatedPaymentResponse(PaymentResponse):
    """A payment as its create answers it: with the other payments of the same order that
    have taken or may still take the shopper's money (`warnings`, usually empty)."""

    warnings: list[ReferenceWarning] = Field(default_factory=list)


class PayoutResponse(_Document):
    """A payout as the merchant API returns it (`id` starts with `po_`). No `expires_at`: a
    payout is money in motion from its create, which time never ends (docs/lifecycle.md)."""

    destination: PayoutDestination | None = None

    @classmethod
    def of(cls, payment: Payment, waits: WaitWindows | None = None) -> Self:
        """The document of the payout `payment` (`waits` unused: a payout has no window)."""
        return cls.model_validate(payment.model_dump())


class ReviewRequest(BaseModel):
    """`POST /v1/payments/{id}/review` (or payouts): the merchant's decision on a
    `needs_review` payment after checking with the provider."""

    model_config = ConfigDict(extra="forbid")

    decision: Annotated[
        ReviewDecision, Field(description="`accept` → `succeeded`, `reject` → `failed`")
    ]
    note: Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            description="Why (kept with the payment and shown on its timeline)",
            examples=["Customer paid 250,000 VND; confirmed with Monetix support"],
        ),
    ]


class PaymentList(BaseModel):
    """One page of payments, newest first."""

    data: list[PaymentResponse]
    next_cursor: Annotated[
        str | None,
        Field(description="Pass as `cursor` for the next page; null when there is none"),
    ]


class PayoutList(BaseModel):
    """One page of payouts, newest first."""

    data: list[PayoutResponse]
    next_cursor: Annotated[
        str | None,
        Field(description="Pass as `cursor` for the next page; null when there is none"),
    ]


class StatusChangeEntry(BaseModel):
    """A status change: from, to, when, and what caused it (a review names the operator: user
    id as `actor`, email as `actor_email`, with the note)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    type: Literal["status_change"] = "status_change"
    at: datetime
    from_: Annotated[PaymentStatus | None, Field(alias="from")] = None
    to: PaymentStatus
    cause: Cause
    provider_code: str | None = None
    failure_code: str | None = None
    actor: str | None = None
    actor_email: str | None = None
    note: str | None = None


class CallbackEntry(BaseModel):
    """A provider notification as it was received and stored (masked), and what it did."""

    type: Literal["callback"] = "callback"
    at: datetime
    provider: Provider
    outcome: WebhookOutcome
    body: dict[str, Any]

    @classmethod
    def of(cls, record: WebhookRecord) -> CallbackEntry:
        return cls(
            at=record.received_at, provider=record.provider, outcome=record.outcome,
            body=record.body,
        )  # fmt: skip


TimelineEntry = Annotated[StatusChangeEntry | CallbackEntry, Field(discriminator="type")]


class Timeline(BaseModel):
    """A payment's story, oldest first: every status change and every received callback."""

    payment_id: str
    entries: list[TimelineEntry]

    @classmethod
    def of(cls, payment: Payment, callbacks: Iterable[WebhookRecord]) -> Timeline:
        """The history in its order, each change after the callback that caused it; the other
        callbacks (stale, duplicate deliveries of news already applied...) by time."""
        unattached = {record.dedupe_key: record for record in callbacks}
        entries: list[StatusChangeEntry | CallbackEntry] = []
        previous: PaymentStatus | None = None
        for change in payment.history:
            caused_by = unattached.pop(change.callback, None) if change.callback else None
            if caused_by is not None:
                entries.append(CallbackEntry.of(caused_by))
            fields = change.model_dump(exclude={"callback"})
            entries.append(StatusChangeEntry(from_=previous, **fields))
            previous = change.to
        for record in sorted(unattached.values(), key=lambda r: r.received_at):
            later = next((i for i, e in enumerate(entries) if e.at > record.received_at), None)
            entries.insert(len(entries) if later is None else later, CallbackEntry.of(record))
        return cls(payment_id=payment.id, entries=entries)
