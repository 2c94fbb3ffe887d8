"""What a browser receives over the status push's WebSocket (`paygate.push`): the payment as
the merchant API answers it (with `expires_at`, the end of its customer's window) and the
gateway's time when sent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from paygate import clock
from paygate.api_models import PaymentResponse
from paygate.domain import Payment
from paygate.lifecycle import LifecyclePolicy


class StatusMessage(BaseModel):
    """What a connection receives when its payment's status changes."""

    type: Literal["payment.status"] = "payment.status"
    payment: PaymentResponse
    sent_at: datetime = Field(
        default_factory=clock.now,
        description="The gateway's time when sent: a browser counts the window from its own "
        "clock as payment.expires_at - sent_at, whatever its clock says",
    )

    @classmethod
    def of(cls, payment: Payment, policy: LifecyclePolicy) -> StatusMessage:
        return cls(payment=PaymentResponse.of(payment, policy.waits))
