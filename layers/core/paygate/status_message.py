"""What a browser receives over the status push's WebSocket (`paygate.push`): the payment as
the merchant API answers it, with the end of its customer's window."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from paygate import clock
from paygate.api_models import PaymentResponse
from paygate.domain import Payment
from paygate.lifecycle import LifecyclePolicy, in_motion


class StatusMessage(BaseModel):
    """What a connection receives when its payment's status changes."""

    type: Literal["payment.status"] = "payment.status"
    payment: PaymentResponse
    expires_at: datetime | None = Field(
        default=None,
        description="When a payment waiting for its customer expires unless paid (its "
        "method's window); None once it is final or money is moving",
    )
    sent_at: datetime = Field(
        default_factory=clock.now,
        description="The gateway's time when sent: a browser counts the window from its own "
        "clock as expires_at - sent_at, whatever its clock says",
    )

    @classmethod
    def of(cls, payment: Payment, policy: LifecyclePolicy) -> StatusMessage:
        waiting = not (payment.status.is_terminal or in_motion(payment))
        return cls(
            payment=PaymentResponse.of(payment),
            expires_at=policy.wait_ends(payment) if waiting else None,
        )
