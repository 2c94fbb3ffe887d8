"""The event every subscriber receives: one SNS message per committed status change."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from paygate.domain import (
    Cause,
    Failure,
    Kind,
    Method,
    NextAction,
    Payment,
    PaymentStatus,
    Provider,
    RedirectAction,
    Review,
)
from paygate.masking import is_contact_parameter, without_contact

SCHEMA_VERSION = 1


class StatusChanged(BaseModel):
    """The SNS event published once per committed status change (docs/api.md, "Events")."""

    event_id: str
    type: Literal["payment.status_changed", "payout.status_changed"]
    schema_version: int = SCHEMA_VERSION
    payment_id: str
    merchant_reference: str
    provider: Provider
    method: Method
    status: PaymentStatus
    previous_status: PaymentStatus | None
    amount: int
    amount_received: int | None
    currency: str
    version: int
    occurred_at: datetime
    provider_reference: str | None
    next_action: NextAction | None
    failure: Failure | None
    # What changed the status (None for a payment stored before status history existed) and,
    # for a merchant's review of a needs_review payment, its decision, note, who and when.
    cause: Cause | None = None
    review: Review | None = None

    @classmethod
    def of(cls, payment: Payment, previous_status: PaymentStatus | None) -> StatusChanged:
        return cls(
            event_id=f"{payment.id}:{payment.version}",
            type="payout.status_changed"
            if payment.kind is Kind.PAYOUT
            else "payment.status_changed",
            payment_id=payment.id,
            merchant_reference=payment.merchant_reference,
            provider=payment.provider,
            method=payment.method,
            status=payment.status,
            previous_status=previous_status,
            amount=payment.amount,
            amount_received=payment.amount_received,
            currency=payment.currency,
            version=payment.version,
            occurred_at=payment.updated_at,
            provider_reference=payment.provider_reference,
            next_action=_published(payment.next_action),
            failure=payment.failure,
            cause=_cause(payment),
            review=payment.review if payment.status is not PaymentStatus.NEEDS_REVIEW else None,
        )

    def attributes(self) -> dict[str, str]:
        """SNS message attributes for subscription filter policies."""
        return {
            "type": self.type,
            "provider": self.provider.value,
            "method": self.method.value,
            "status": self.status.value,
        }


def _published(action: NextAction | None) -> NextAction | None:
    """A next action as events carry it: a redirect without the customer's contact data (the
    Payment Page's `customer_*` parameters, and the signature that covered them; the link to
    send the customer to is in the create answer and GET /v1/payments/{id}; docs/privacy.md)."""
    if isinstance(action, RedirectAction):
        url = without_contact(action.url)
        params = {k: v for k, v in action.params.items() if not is_contact_parameter(k)}
        return action.model_copy(update={"url": url, "params": params})
    return action


def _cause(payment: Payment) -> Cause | None:
    """What made the payment's current status: its history's last entry, when it is about it."""
    last = payment.history[-1] if payment.history else None
    return last.cause if last is not None and last.to is payment.status else None
