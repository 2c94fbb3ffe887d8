"""The domain: every enum, payments and payouts, what providers report, and next actions.

The bottom of the layer's import graph: it imports only `paygate.clock` and pydantic. The
merchant API's models are in `paygate.api_models`, the SNS event in `paygate.events`, stored
webhook records in `paygate.records` (beside the repository)."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from paygate import clock

CURRENCY = "VND"


def utcnow() -> datetime:
    """Now, from the gateway's clock (`paygate.clock`)."""
    return clock.now()


class PaymentStatus(StrEnum):
    """Where a payment or payout stands, as merchants see it."""

    CREATED = "created"
    PENDING = "pending"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NEEDS_REVIEW = "needs_review"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def rank(self) -> int:
        """Position in the forward order; every terminal status shares the last rank."""
        return _RANK[self]


TERMINAL_STATUSES = frozenset(
    {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.FAILED,
        PaymentStatus.CANCELLED,
        PaymentStatus.EXPIRED,
        PaymentStatus.NEEDS_REVIEW,
    }
)

_ORDER = (
    PaymentStatus.CREATED,
    PaymentStatus.PENDING,
    PaymentStatus.REQUIRES_CONFIRMATION,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.PROCESSING,
)
_RANK = {status: index for index, status in enumerate(_ORDER)} | {
    status: len(_ORDER) for status in TERMINAL_STATUSES
}


class Method(StrEnum):
    """Payment methods (our ids), one per provider product."""

    EWALLET = "ewallet"
    BANK_TRANSFER = "bank_transfer"
    NAPAS_ATM = "napas_atm"
    NGANLUONG_WALLET = "nganluong_wallet"
    VIETQR = "vietqr"


class Operation(StrEnum):
    SALE = "sale"
    PAYOUT = "payout"


class Provider(StrEnum):
    SMARTGLOCAL = "smartglocal"
    MONETIX = "monetix"
    ECOMMPAY = "ecommpay"
    PAYPRO = "paypro"


class Kind(StrEnum):
    PAYMENT = "payment"
    PAYOUT = "payout"


class Confirmation(StrEnum):
    """Who confirms a payment the provider holds for confirmation (Smart Glocal
    `ready_to_confirm`): the gateway at once (`auto`) or the merchant's API call (`manual`)."""

    AUTO = "auto"
    MANUAL = "manual"


class Flow(StrEnum):
    """How an ecommpay/Monetix payment starts: server to server through Gate, or by sending
    the customer to the provider's hosted Payment Page."""

    GATE = "gate"
    PAYMENT_PAGE = "payment_page"


class Cause(StrEnum):
    """What changed a payment's status: its create call, a provider webhook, the reconcile
    job's status query, or the merchant (confirm, cancel, review)."""

    CREATE = "create"
    WEBHOOK = "webhook"
    RECONCILIATION = "reconciliation"
    MERCHANT_ACTION = "merchant_action"


class ReviewDecision(StrEnum):
    """The merchant's decision on a `needs_review` payment: `accept` → `succeeded`,
    `reject` → `failed`."""

    ACCEPT = "accept"
    REJECT = "reject"


class WebhookOutcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"
    DUPLICATE = "duplicate"
    UNKNOWN_PAYMENT = "unknown_payment"
    # A money-moving result the provider's status query could not confirm yet: stored and
    # acknowledged, the payment unchanged; reconciliation settles it.
    UNCONFIRMED = "unconfirmed"


def new_payment_id(kind: Kind = Kind.PAYMENT) -> str:
    """`pay_`/`po_` + UTC timestamp + 10 random chars: sortable, unique, and safe as a
    provider trade number (letters, digits and `_` only)."""
    prefix = "pay" if kind is Kind.PAYMENT else "po"
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    return f"{prefix}_{stamp}{secrets.token_hex(5)}"


# Our payment id as `new_payment_id` makes it, for a provider's echo of our id to match.
PAYMENT_ID_PATTERN = r"^(pay|po)_[0-9]{14}[0-9a-f]{10}$"


def kind_of(payment_id: str) -> Kind:
    """Payout or payment, from our id's prefix (`po_` / `pay_`)."""
    return Kind.PAYOUT if payment_id.startswith("po_") else Kind.PAYMENT


class RedirectAction(BaseModel):
    """Send the customer's browser to `url` with `method` and `params`."""

    type: Literal["redirect"] = "redirect"
    url: str
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str] = Field(default_factory=dict)


class QrAction(BaseModel):
    """Show a QR code (or link) the customer pays with in a banking or wallet app."""

    type: Literal["qr"] = "qr"
    payment_link: str | None = None
    qr_payload: str | None = None


class InstructionTexts(BaseModel):
    """The provider's customer-facing instruction lines, in Vietnamese and English."""

    vi: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)


class BankTransferInstructions(BaseModel):
    """What the customer must type into a bank transfer (one model for every provider's
    instruction format)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["bank_transfer_instructions"] = "bank_transfer_instructions"
    bank: Annotated[str | None, Field(description="Recipient bank name")] = None
    bank_code: Annotated[str | None, Field(description="Recipient bank code, e.g. MBBANK")] = None
    bank_abbr: Annotated[str | None, Field(description="Recipient bank short name")] = None
    branch: Annotated[str | None, Field(description="Recipient bank branch")] = None
    swift_code: str | None = None
    account_no: Annotated[str | None, Field(description="Recipient account number")] = None
    account_name: Annotated[str | None, Field(description="Recipient account holder")] = None
    amount: Annotated[int | None, Field(description="Amount to transfer, VND")] = None
    transfer_code: Annotated[
        str | None,
        Field(description="What the customer must write in the transfer's content/reference"),
    ] = None
    instructions: InstructionTexts | None = None


class ClarificationAction(BaseModel):
    """The provider needs more data before it continues: send `fields` (dotted paths, e.g.
    `card.pan`) with POST /v1/payments/{id}/clarification."""

    type: Literal["clarification"] = "clarification"
    fields: list[str]
    message: str | None = None


NextAction = Annotated[
    RedirectAction | QrAction | BankTransferInstructions | ClarificationAction,
    Field(discriminator="type"),
]


class Failure(BaseModel):
    """Why a payment failed (or needs review): our code plus the provider's own."""

    code: str
    message: str
    provider_code: str | None = None
    provider_message: str | None = None


class Review(BaseModel):
    """A merchant's decision on a `needs_review` payment: who (the operator's user id and
    email; an API key's id on reviews made before operators signed in), when, why."""

    decision: ReviewDecision
    note: str
    reviewed_by: str
    reviewed_by_email: str | None = None
    reviewed_at: datetime


class StatusChange(BaseModel):
    """One status change as the payment item keeps it (`history`), written by the same write
    that changed the status; the status it came from is the entry before it."""

    to: PaymentStatus
    at: datetime
    cause: Cause
    provider_code: str | None = None
    failure_code: str | None = None
    actor: str | None = None
    actor_email: str | None = None
    note: str | None = None
    # The dedupe key of the webhook that caused it (the timeline puts that callback first).
    callback: str | None = None


class PayoutDestination(BaseModel):
    """Where a payout goes, as stored and returned: a card only as its masked form (first 6
    and last 4 digits); the full number goes to the provider alone."""

    bank_id: int | None = None
    region_id: int | None = None
    card: Annotated[str | None, Field(description="Masked card number, e.g. 432143******5432")] = (
        None
    )
    card_holder: str | None = None
    account_number: Annotated[
        str | None, Field(description="Wallet account (Nganluong) or bank account number")
    ] = None
    account_name: str | None = None
    bank_name: str | None = None


class Payment(BaseModel):
    """The single source of truth for one payment or payout (the DynamoDB record)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    kind: Kind = Kind.PAYMENT
    provider: Provider
    method: Method
    status: PaymentStatus = PaymentStatus.CREATED
    amount: int
    amount_received: int | None = None
    currency: str = CURRENCY
    merchant_reference: str
    provider_reference: str | None = None
    next_action: NextAction | None = None
    failure: Failure | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    # The merchant's id of its customer (`customer.id`), when given: what finds a customer's
    # payments for erasure (ops/erase_customer.py, docs/privacy.md). Not in the API or events.
    customer_id: str | None = None
    # Smart Glocal only: chosen at create; None for providers without a confirmation step.
    confirmation: Confirmation | None = None
    # Payouts only.
    destination: PayoutDestination | None = None
    # Reconciliation (paygate.reconcile): when the provider is next asked, and how often it was.
    reconcile_at: datetime | None = None
    reconcile_attempts: int = 0
    # Since when every status query answered "not found" (a payout fails only after that
    # spans the provider's whole window).
    reconcile_not_found_since: datetime | None = None
    # The merchant's decision on a `needs_review` payment (POST .../review).
    review: Review | None = None
    # Every status change, oldest first (the timeline; not part of the API's payment).
    history: list[StatusChange] = Field(default_factory=list)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class _CreateRequest(Protocol):
    """What `payment_for`/`payout_for` read from a merchant's create request."""

    @property
    def method(self) -> Method: ...
    @property
    def amount(self) -> int: ...
    @property
    def merchant_reference(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def metadata(self) -> dict[str, str]: ...


def _new(**fields: Any) -> Payment:
    """A new payment record, its history starting with its creation."""
    now = utcnow()
    created = StatusChange(to=PaymentStatus.CREATED, at=now, cause=Cause.CREATE)
    return Payment(created_at=now, updated_at=now, history=[created], **fields)


def payment_for(provider: Provider, request: _CreateRequest, **extra: Any) -> Payment:
    """A new payment record for a merchant's create request (`extra`: provider fields)."""
    return _new(
        id=new_payment_id(),
        provider=provider,
        method=request.method,
        amount=request.amount,
        merchant_reference=request.merchant_reference,
        description=request.description,
        metadata=request.metadata,
        customer_id=customer_id_of(request),
        **extra,
    )


def customer_id_of(request: object) -> str | None:
    """The merchant's id of the customer in a create request (`customer.id`), if any."""
    customer = getattr(request, "customer", None)
    value = getattr(customer, "id", None)
    return value if isinstance(value, str) else None


def payout_for(
    provider: Provider, request: _CreateRequest, destination: PayoutDestination, **extra: Any
) -> Payment:
    """A new payout record for a merchant's payout request."""
    return _new(
        id=new_payment_id(Kind.PAYOUT),
        kind=Kind.PAYOUT,
        provider=provider,
        method=request.method,
        amount=request.amount,
        merchant_reference=request.merchant_reference,
        description=request.description,
        metadata=request.metadata,
        destination=destination,
        customer_id=customer_id_of(request),
        **extra,
    )


class ProviderUpdate(BaseModel):
    """What a provider told us (create answer, webhook or status query), already mapped.

    `provider_working`: the provider says it is acting on the payment (e.g. the platform's
    `processing`) although our status class is still a waiting one: money may be moving, so
    the payment never expires by time (docs/lifecycle.md)."""

    status: PaymentStatus
    provider_working: bool = False
    provider_reference: str | None = None
    amount_received: int | None = None
    currency: str | None = None
    next_action: NextAction | None = None
    failure: Failure | None = None
