"""What the repository stores beside payments: inbound provider notifications (masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from paygate.domain import Provider, WebhookOutcome, utcnow


class WebhookRecord(BaseModel):
    """One inbound provider notification as stored (masked), keyed by its dedupe key."""

    provider: Provider
    dedupe_key: str
    payment_id: str | None
    received_at: datetime = Field(default_factory=utcnow)
    outcome: WebhookOutcome
    body: dict[str, Any]
