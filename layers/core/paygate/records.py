"""What the repository stores beside payments: inbound provider notifications (masked); what
it reads of the reconcile schedule (`DueEntry`)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class DueEntry:
    """A payment due for a status query, as the schedule index holds it: its id, provider,
    `reconcile_at` as stored and since when it has been due (a lease's first due time)."""

    payment_id: str
    provider: Provider
    reconcile_at: str
    due_at: datetime
