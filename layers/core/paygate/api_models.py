"""The merchant API's wire models: request bodies (snake_case JSON, unknown fields refused),
responses, and the one error shape."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from paygate.api_errors import ErrorDetail, ErrorResponse
from paygate.domain import (
    Cause,
    Confirmation,
    Failure,
    Flow,
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
from paygate.records import WebhookRecord

__all__ = ["ErrorDetail", "ErrorResponse"]  # the error shape, re-exported with the models

Amount = Annotated[
    int, Field(strict=True, gt=0, description="Amount in VND major units (VND has no minor unit)")
]
MetadataKey = Annotated[str, Field(min_length=1, max_length=40)]
MerchantReference = Annotated[
    str,
    Field(min_length=1, max_length=64, description="The merchant's order id", examples=["order-1"]),
]


class Customer(BaseModel):
    """The payer; which fields are required depends on the method and provider."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = (
        None
    )
    phone: Annotated[str, Field(max_length=32)] | None = None
    ip_address: Annotated[str, Field(max_length=45)] | None = None
    first_name: Annotated[str, Field(max_length=100)] | None = None
    last_name: Annotated[str, Field(max_length=100)] | None = None
    full_name: Annotated[str, Field(max_length=200)] | None = None
    document: Annotated[str, Field(max_length=64)] | None = None


class CreatePaymentRequest(BaseModel):
    """Fields every provider's create-payment route accepts."""

    model_config = ConfigDict(extra="forbid")

    method: Method
    amount: Amount
    currency: Annotated[Literal["VND"], Field(description="Only VND")] = "VND"
    merchant_reference: MerchantReference
    customer: Customer | None = None
    return_url: Annotated[str, Field(max_length=2048)] | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    metadata: Annotated[
        dict[MetadataKey, Annotated[str, Field(max_length=500)]], Field(max_length=20)
    ] = Field(default_factory=dict)


class PayproPaymentRequest(CreatePaymentRequest):
    """`POST /v1/paypro/payments`: a VietQR payin (minimum 50,000 VND)."""

    method: Literal[Method.VIETQR] = Method.VIETQR


class SmartglocalCustomer(Customer):
    """The payer of a Smart Glocal e-wallet payment: email, full name and identity document are
    required by Smart Glocal (`customer.contacts`, `participant_details.sender`)."""

    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    full_name: Annotated[str, Field(min_length=1, max_length=200)]
    document: Annotated[str, Field(min_length=1, max_length=64)]


class SmartglocalPaymentRequest(CreatePaymentRequest):
    """`POST /v1/smartglocal/payments`: a Vietnamese e-wallet payment (QR deeplink)."""

    method: Literal[Method.EWALLET] = Method.EWALLET
    customer: SmartglocalCustomer
    confirmation: Annotated[
        Confirmation,
        Field(
            description="`auto`: the gateway confirms when Smart Glocal is ready; `manual`: the "
            "payment waits in `requires_confirmation` for POST /v1/payments/{id}/confirm or /cancel"
        ),
    ] = Confirmation.AUTO


class ReturnUrls(BaseModel):
    """Where the provider sends the customer back (`return` when they leave early)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    success: Annotated[str, Field(max_length=2048)] | None = None
    decline: Annotated[str, Field(max_length=2048)] | None = None
    return_: Annotated[str | None, Field(alias="return", max_length=2048)] = None


class Card(BaseModel):
    """ATM card data some channel-2 banks require. Sent to the provider only: never stored,
    logged or returned (`repr` hides the number)."""

    model_config = ConfigDict(extra="forbid")

    pan: Annotated[str, Field(pattern=r"^[0-9]{12,19}$", repr=False)]
    card_holder: Annotated[str, Field(min_length=1, max_length=100)]
    year: Annotated[int, Field(ge=2000, le=2100)]
    month: Annotated[int, Field(ge=1, le=12)]


BankId = Annotated[
    int, Field(gt=0, description="Bank id from GET /v1/{provider}/banks (the docs' tables)")
]


class PlatformPaymentRequest(CreatePaymentRequest):
    """Fields of the ecommpay-platform methods (ecommpay and Monetix)."""

    return_urls: ReturnUrls | None = None
    bank_id: BankId | None = None
    flow: Flow = Flow.GATE
    card: Annotated[
        Card | None, Field(description="napas_atm on channel 2 only, when the bank needs it")
    ] = None


class EcommpayPaymentRequest(PlatformPaymentRequest):
    """`POST /v1/ecommpay/payments`: a NAPAS ATM card or Nganluong wallet payment."""

    method: Literal[Method.NAPAS_ATM, Method.NGANLUONG_WALLET]


class MonetixPaymentRequest(PlatformPaymentRequest):
    """`POST /v1/monetix/payments`: a Vietnamese bank transfer."""

    method: Literal[Method.BANK_TRANSFER] = Method.BANK_TRANSFER


ClarificationPath = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=100)
]


class ClarificationRequest(BaseModel):
    """`POST /v1/payments/{id}/clarification`: the fields the provider asked for, by their
    dotted path (as listed in `next_action.fields`)."""

    model_config = ConfigDict(extra="forbid")

    fields: Annotated[
        dict[ClarificationPath, Annotated[str, Field(max_length=255)] | int],
        Field(min_length=1, max_length=30, examples=[{"card.pan": "4321432154325432"}]),
    ]


class PayoutCustomer(BaseModel):
    """The payee as the platform needs it for a payout."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64)]
    ip_address: Annotated[str, Field(min_length=1, max_length=45)]


class PayoutRequestBase(BaseModel):
    """Fields every payout route accepts."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount
    currency: Annotated[Literal["VND"], Field(description="Only VND")] = "VND"
    merchant_reference: MerchantReference
    description: Annotated[str, Field(max_length=255)] | None = None
    metadata: Annotated[
        dict[MetadataKey, Annotated[str, Field(max_length=500)]], Field(max_length=20)
    ] = Field(default_factory=dict)


class EcommpayPayoutRequest(PayoutRequestBase):
    """`POST /v1/ecommpay/payouts`: to a NAPAS ATM card (bank, region, card: 100,000 to
    100,000,000 VND) or a Nganluong wallet (`account_number`, e.g. the wallet's email)."""

    method: Literal[Method.NAPAS_ATM, Method.NGANLUONG_WALLET]
    customer: PayoutCustomer
    bank_id: BankId | None = None
    region_id: (
        Annotated[int, Field(gt=0, description="Payout region (GET .../banks?operation=payout)")]
        | None
    ) = None
    card: Card | None = None
    account_number: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class PayproPayoutRequest(PayoutRequestBase):
    """`POST /v1/paypro/payouts`: a bank payout (at least 50,000 VND)."""

    method: Literal[Method.VIETQR] = Method.VIETQR
    account_name: Annotated[
        str,
        Field(min_length=1, max_length=100, description="English letters and spaces only"),
    ]
    bank_name: Annotated[
        str, Field(min_length=1, max_length=50, description="From GET /v1/paypro/banks")
    ]
    bank_number: Annotated[str, Field(pattern=r"^[0-9]{4,30}$")]


class PaymentResponse(BaseModel):
    """A payment as the merchant API returns it."""

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

    @classmethod
    def of(cls, payment: Payment) -> PaymentResponse:
        return cls.model_validate(payment.model_dump())


class PayoutResponse(PaymentResponse):
    """A payout as the merchant API returns it (`id` starts with `po_`)."""

    destination: PayoutDestination | None = None

    @classmethod
    def of(cls, payment: Payment) -> PayoutResponse:
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
    """A status change: from, to, when, and what caused it (a merchant action names the API
    key's id as `actor`, with its note)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    type: Literal["status_change"] = "status_change"
    at: datetime
    from_: Annotated[PaymentStatus | None, Field(alias="from")] = None
    to: PaymentStatus
    cause: Cause
    provider_code: str | None = None
    failure_code: str | None = None
    actor: str | None = None
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
