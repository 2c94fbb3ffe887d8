"""Smart Glocal wire models (session API, webhooks) and their one mapping to our domain.

The same `update_from_session` maps webhooks and `session/status` answers (Smart Glocal's
session statuses and webhooks documentation). Rules, in order (first match wins):

1. session `accepted` and payment `succeeded`            → `succeeded` (amount/currency checked
   by the ledger: a different amount or currency becomes `needs_review`)
2. payment `failed` and session `error`                  → `processing` + failure: NOT final
   (Smart Glocal's own warning; reconcile with support/session/status, never auto-retry)
3. payment `failed` with an abandonment code (`ABANDONED_CODES`), or without any code in a
   `cancelled` session                                  → `expired` (abandoned: nobody paid)
4. payment `failed` (session anything else)              → `failed` (a genuine decline)
5. session `cancelled` / `canceled`                      → `expired`: Smart Glocal ends a session
   left waiting 240 minutes for confirmation or 60 for the customer as cancelled (its
   webhooks page), and the gateway cancels it itself at its window's end; a merchant's own
   cancel is applied as `cancelled` by the cancel action, not by this mapping
6. session `error` (payment not failed)                  → `processing` + failure: not final
7. session `accepted` or payment `succeeded` alone       → `processing` (success not explicit)
8. webhook `ready_to_confirm` or session `next_action: confirm` → `requires_confirmation`
9. webhook `action_required` or a payment carrying `customer_interaction.redirect`
                                                         → `requires_action` (the QR deeplink)
10. anything else (`created`, `in_progress`, `pending`, unknown values) → `pending`

ASSUMPTIONS (Smart Glocal publishes no list of payment error codes; docs/lifecycle.md): the
timeout that cancels a waiting session is reported with the payment's error code `timeout`
(or with no code at all); any other code of a `failed` payment is a decline, even in a
cancelled session (the safe side: an undocumented code stays the provider's own word,
`failed`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from paygate.domain import (
    PAYMENT_ID_PATTERN,
    Failure,
    Payment,
    PaymentStatus,
    ProviderUpdate,
    RedirectAction,
)

PAYMENT_ID_KEY = "paygate_payment_id"  # our payment id in the session's metadata
CURRENCY = "VND"

READY_TO_CONFIRM = "ready_to_confirm"
ACTION_REQUIRED = "action_required"
PAYMENT_FINISHED = "payment_finished"
KNOWN_WEBHOOK_TYPES = frozenset({READY_TO_CONFIRM, ACTION_REQUIRED, PAYMENT_FINISHED})

SESSION_ACCEPTED = "accepted"
SESSION_ERROR = "error"
SESSION_CANCELLED = frozenset({"cancelled", "canceled"})
PAYMENT_SUCCEEDED = "succeeded"
PAYMENT_FAILED = "failed"
NEXT_ACTION_CONFIRM = "confirm"
# Ended without money, per the payment's `error.code`. Abandoned (`expired`): the customer (or
# the merchant's confirmation) never came. ASSUMPTION: `timeout` is the code of Smart Glocal's
# 240/60-minute cancels (its docs name the result, session `cancelled`, not the code). Every
# other code is a decline (`failed`), e.g. `payment_declined`.
ABANDONED_CODES = frozenset({"timeout"})


class _Wire(BaseModel):
    """Smart Glocal objects: unknown extra fields are kept, never refused (Smart Glocal's
    webhooks documentation)."""

    model_config = ConfigDict(extra="allow")


class WireError(_Wire):
    code: str | None = None
    description: str | None = None


class AmountDetails(_Wire):
    amount: int
    currency: str


class Redirect(_Wire):
    url: str = Field(min_length=1)
    base_url: str | None = None
    method: str | None = "GET"
    params: dict[str, Any] | None = None


class CustomerInteraction(_Wire):
    type: str | None = None
    redirect: Redirect | None = None


class AcquiringPayment(_Wire):
    id: str | None = None
    status: str | None = None
    amount_details: AmountDetails | None = None
    customer_interaction: CustomerInteraction | None = None
    metadata: Any = None
    error: WireError | None = None


class Session(_Wire):
    """A PaymentSession (`session` in answers and webhooks)."""

    id: str = Field(min_length=1)
    status: str = Field(min_length=1)
    next_action: str | None = None
    acquiring_payments: list[AcquiringPayment] = Field(default_factory=list)
    metadata: Any = None
    error: WireError | None = None

    @property
    def payment(self) -> AcquiringPayment | None:
        """The session's latest acquiring payment (one per e-wallet session in practice)."""
        return self.acquiring_payments[-1] if self.acquiring_payments else None

    def our_payment_id(self) -> str | None:
        """Our payment id from the metadata we sent (echoed on the session or the payment)."""
        for value in self.payment_ids():
            if isinstance(value, str) and value:
                return value
        return None

    def payment_ids(self) -> list[object]:
        """Every value the metadata carries under our key (session first, then payments)."""
        found: list[object] = []
        for metadata in [self.metadata] + [p.metadata for p in self.acquiring_payments]:
            if isinstance(metadata, BaseModel):
                metadata = metadata.model_dump()
            if isinstance(metadata, dict) and metadata.get(PAYMENT_ID_KEY) is not None:
                found.append(metadata[PAYMENT_ID_KEY])
        return found


class Envelope(_Wire):
    """Every session API answer: `status` ok with a session, or error with `{code, description}`."""

    status: str | None = None
    session: Session | None = None
    error: WireError | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.error is None and self.session is not None


# -- the webhook document: strict in every field the gateway reads ------------------------------
# Formats from Smart Glocal's objects reference and webhooks documentation: ids such as `ps_5666`
# and `pm_12354`, ISO 8601 times with microseconds and `Z`, amounts in whole minor units, VND.
# Inside the session Smart Glocal may add method-specific fields: those are kept, unread.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
ISO_8601 = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)
MAX_WIRE_AMOUNT = 10**15


def _iso_8601(value: object) -> datetime:
    """An ISO 8601 date-time with its UTC offset, as text (no epoch number, no bare date)."""
    if not isinstance(value, str) or re.fullmatch(ISO_8601, value) is None:
        raise ValueError("not an ISO 8601 date-time with a UTC offset")
    return datetime.fromisoformat(value)


WireId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Timestamp = Annotated[datetime, BeforeValidator(_iso_8601)]
OurPaymentId = Annotated[str, StringConstraints(pattern=PAYMENT_ID_PATTERN)]
SessionStatus = Literal["created", "in_progress", "accepted", "cancelled", "canceled", "error"]
AcquiringStatus = Literal["in_progress", "pending", "succeeded", "failed"]


class WebhookError(WireError):
    code: WireId | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None


class WebhookAmount(AmountDetails):
    amount: Annotated[int, Field(strict=True, ge=1, le=MAX_WIRE_AMOUNT)]
    currency: Literal["VND"]


class WebhookRedirect(Redirect):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2048)]
    method: Literal["GET", "POST", "get", "post"] | None = "GET"


class WebhookInteraction(CustomerInteraction):
    redirect: WebhookRedirect | None = None


class WebhookMetadata(_Wire):
    """The metadata we sent, echoed: the merchant's keys as they are, our payment id in our
    format (`paygate.domain.PAYMENT_ID_PATTERN`)."""

    paygate_payment_id: OurPaymentId | None = None


class WebhookPayment(AcquiringPayment):
    id: WireId
    status: AcquiringStatus
    created_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    amount_details: WebhookAmount | None = None
    customer_interaction: WebhookInteraction | None = None
    metadata: WebhookMetadata | None = None
    error: WebhookError | None = None


class WebhookSession(Session):
    """The session of a webhook: `updated_at`, inside the signed body, is the signed time."""

    id: WireId
    status: SessionStatus
    created_at: Timestamp | None = None
    updated_at: Timestamp
    next_action: Literal["confirm", "capture"] | None = None
    acquiring_payments: list[WebhookPayment] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=16
    )
    metadata: WebhookMetadata | None = None
    error: WebhookError | None = None


class Webhook(_Wire):
    """`{"type": ..., "session": {...}}` (Smart Glocal's webhooks documentation; its examples
    also carry the envelope's `status`). Any other top-level key is refused. A body without
    `type` (the docs show the start/payment answer POSTed to the partner too) is an unknown
    type."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str, StringConstraints(pattern=TYPE_PATTERN)] | None = None
    status: Literal["ok", "error"] | None = None
    session: WebhookSession

    def dedupe_key(self) -> str:
        """The same type and state of the same session is the same fact, however often sent
        (timestamps excluded: a redelivery may be re-serialised)."""
        payment = self.session.payment
        interaction = payment.customer_interaction if payment else None
        redirect = interaction.redirect.url if interaction and interaction.redirect else ""
        fact = "|".join(
            (
                self.type or "",
                self.session.id,
                self.session.status,
                self.session.next_action or "",
                (payment.id or "") if payment else "",
                (payment.status or "") if payment else "",
                redirect,
            )
        )
        return hashlib.sha256(fact.encode()).hexdigest()[:40]


def map_status(session: Session, event: str | None = None) -> PaymentStatus:
    """The module docstring's rules: session and payment status (+ webhook type) → ours."""
    payment = session.payment
    payment_status = payment.status if payment else None
    if session.status == SESSION_ACCEPTED and payment_status == PAYMENT_SUCCEEDED:
        return PaymentStatus.SUCCEEDED
    if payment_status == PAYMENT_FAILED and session.status == SESSION_ERROR:
        return PaymentStatus.PROCESSING
    if payment_status == PAYMENT_FAILED:
        return PaymentStatus.EXPIRED if _abandoned(session) else PaymentStatus.FAILED
    if session.status in SESSION_CANCELLED:
        return PaymentStatus.EXPIRED
    if session.status == SESSION_ERROR:
        return PaymentStatus.PROCESSING
    if session.status == SESSION_ACCEPTED or payment_status == PAYMENT_SUCCEEDED:
        return PaymentStatus.PROCESSING
    if event == READY_TO_CONFIRM or session.next_action == NEXT_ACTION_CONFIRM:
        return PaymentStatus.REQUIRES_CONFIRMATION
    if event == ACTION_REQUIRED or redirect_action(session) is not None:
        return PaymentStatus.REQUIRES_ACTION
    return PaymentStatus.PENDING


def _abandoned(session: Session) -> bool:
    """A failed payment nobody paid: an abandonment code, or no code in a cancelled session."""
    error = _error_of(session)
    code = error.code if error else None
    if code is None:
        return session.status in SESSION_CANCELLED
    return code in ABANDONED_CODES


def redirect_action(session: Session) -> RedirectAction | None:
    """The QR deeplink (`customer_interaction.redirect`) as our redirect next action."""
    payment = session.payment
    interaction = payment.customer_interaction if payment else None
    redirect = interaction.redirect if interaction else None
    if redirect is None:
        return None
    method = (redirect.method or "GET").upper()
    params = {str(key): str(value) for key, value in (redirect.params or {}).items()}
    return RedirectAction(
        url=redirect.url, method="POST" if method == "POST" else "GET", params=params
    )


def _error_of(session: Session) -> WireError | None:
    payment = session.payment
    if payment is not None and payment.error is not None:
        return payment.error
    return session.error


def _failure(status: PaymentStatus, session: Session) -> Failure | None:
    error = _error_of(session)
    code = error.code if error else None
    description = error.description if error else None
    suffix = f" ({code}{': ' + description if description else ''})" if code else ""
    if status is PaymentStatus.FAILED:
        return Failure(
            code="provider_declined",
            message=f"Smart Glocal reports the payment failed{suffix}",
            provider_code=code or PAYMENT_FAILED,
            provider_message=description,
        )
    if status is PaymentStatus.EXPIRED:
        return Failure(
            code="expired",
            message=f"Smart Glocal ended the session unpaid ({session.status}){suffix}",
            provider_code=code or session.status,
            provider_message=description,
        )
    if status is PaymentStatus.PROCESSING and session.status == SESSION_ERROR:
        return Failure(
            code="provider_error_not_final",
            message=(
                f"Smart Glocal reports an error that is not final{suffix}; the payment stays "
                "open until Smart Glocal support confirms its final status"
            ),
            provider_code=code or SESSION_ERROR,
            provider_message=description,
        )
    return None


def received_amount(amount: int, factor: int) -> int:
    """Our VND amount for a wire amount; an amount that is not a whole number of VND is kept
    as sent, so that it can never match and lands in `needs_review`."""
    return amount // factor if amount % factor == 0 else amount


def update_from_session(
    session: Session, event: str | None = None, amount_factor: int = 1
) -> ProviderUpdate:
    """One mapping for webhooks (`event` = their type) and session answers (`event` None)."""
    status = map_status(session, event)
    payment = session.payment
    details = payment.amount_details if payment else None
    paid = status is PaymentStatus.SUCCEEDED and details is not None
    return ProviderUpdate(
        status=status,
        provider_reference=session.id,
        amount_received=received_amount(details.amount, amount_factor)
        if paid and details
        else None,
        currency=details.currency if paid and details else None,
        next_action=redirect_action(session) if status is PaymentStatus.REQUIRES_ACTION else None,
        failure=_failure(status, session),
    )


def payment_fields(
    payment: Payment,
    *,
    customer_reference: str,
    email: str,
    full_name: str,
    document: str,
    return_url: str | None,
    amount_factor: int,
) -> dict[str, Any]:
    """The payment part of `session/init/payment` and `session/start/payment` for a Vietnamese
    e-wallet (Smart Glocal's "Vietnam. Ewallet payments"). `recurrent` is always false: no
    recurring payments in VN."""
    options: dict[str, Any] = {"recurrent": False}
    if return_url:
        options = {"return_url": return_url, "recurrent": False}
    return {
        "payment_details": {
            "type": "internet_banking",
            "internet_banking": {
                "type": "country_ewallet",
                "country_ewallet": {"country_iso2": "VN"},
            },
        },
        "amount_details": {"amount": payment.amount * amount_factor, "currency": CURRENCY},
        "customer": {"reference": customer_reference, "contacts": [{"email": email}]},
        "participant_details": {"sender": {"full_name": full_name, "document": document}},
        "payment_options": options,
        "metadata": metadata_of(payment),
    }


def metadata_of(payment: Payment) -> dict[str, str]:
    """The merchant's metadata plus our payment id (ours wins on a clash)."""
    return {**payment.metadata, PAYMENT_ID_KEY: payment.id}
