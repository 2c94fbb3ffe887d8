"""Platform (ecommpay, Monetix) callbacks as a webhook contract (`paygate.webhooks`): signed
over their values as received (root `signature`), keyed by every signed value, `payment.id`
is our payment id.

The same project secret signs the Payment Page URLs customers see, so a signature alone proves
little (docs/security.md): the document must be strict (`wire.Callback`), name our project, and
a success or decline must carry `payment.sum` and `operation`; with confirmation on (the
default), a money-moving result counts only once the platform's status query agrees."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from paygate.domain import PAYMENT_ID_PATTERN, PaymentStatus, Provider, ProviderUpdate
from paygate.errors import NotificationRefused
from paygate.json_body import json_object
from paygate.providers.platform import signing
from paygate.providers.platform.transformers import dedupe_key, map_status, update_from_callback
from paygate.providers.platform.wire import Callback
from paygate.webhooks import DocumentSignedContract, WebhookChecks

WEBHOOK_ACK = {"status": "ok"}
OUR_PAYMENT_ID = re.compile(PAYMENT_ID_PATTERN)
# Results that must say how much and by which operation (the callbacks of every method page).
_RESULTS = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.NEEDS_REVIEW})


class SignedCallback(dict[str, Any]):
    """A callback whose signature matched, with the text it was computed over: the dedupe key
    hashes that same text, so a callback is flattened once per delivery."""

    def __init__(self, document: dict[str, Any], signed: str) -> None:
        super().__init__(document)
        self.signed = signed


class PlatformCallbacks(DocumentSignedContract[Callback]):
    model = Callback
    subject = "callback"
    signature_field = "signature"
    signed_time_field = "operation.date"
    ack = WEBHOOK_ACK

    def __init__(
        self,
        provider: Provider,
        secrets: Callable[[], Sequence[str]],
        project_id: Callable[[], int],
        checks: WebhookChecks | None = None,
        query: Callable[[str], ProviderUpdate] | None = None,
    ) -> None:
        super().__init__(provider, checks)
        self.secrets = secrets
        self.project_id = project_id
        self.query = query

    def read(self, raw: bytes) -> dict[str, Any]:
        return json_object(raw, numbers_as_text=True)  # signed over the values as received

    def signature_valid(self, document: dict[str, Any]) -> bool:
        return signing.is_valid(document, self.secrets())

    def verified(self, raw: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
        document = self.read(raw)
        signed = signing.signed_text(document, self.secrets())
        return None if signed is None else SignedCallback(document, signed)

    def check(self, message: Callback) -> None:
        """One of our payment ids, our project, and a result that says how much
        (`payment.sum`) and by which `operation` (dated): without them a success or decline is
        not applied."""
        if not OUR_PAYMENT_ID.match(message.payment.id):
            raise NotificationRefused(
                "callback payment.id is not a payment id this gateway issued", field="payment.id"
            )
        if message.project_id != str(self.project_id()):
            raise NotificationRefused(
                "callback project_id is not this gateway's project", field="project_id"
            )
        operation = message.operation
        status = map_status(message.payment.status, operation.status if operation else None)
        if status not in _RESULTS:
            return
        if operation is None or not operation.date:
            raise NotificationRefused(
                f"a {status.value} callback must carry its operation and operation.date",
                field="operation.date" if operation else "operation",
            )
        paid = message.payment.sum
        if paid is None or paid.amount is None or paid.currency is None:
            raise NotificationRefused(
                f"a {status.value} callback must carry payment.sum (amount and currency)",
                field="payment.sum",
            )

    def signed_at(self, message: Callback) -> datetime | None:
        return message.signed_at

    def confirm(self, payment_id: str, message: Callback) -> ProviderUpdate:
        if self.query is None:
            return super().confirm(payment_id, message)
        return self.query(payment_id)

    def dedupe_key(self, message: Callback, document: dict[str, Any]) -> str:
        signed = document.signed if isinstance(document, SignedCallback) else None
        return dedupe_key(document, signed)

    def payment_id(self, message: Callback) -> str:
        return message.payment.id

    def update(self, message: Callback) -> ProviderUpdate:
        return update_from_callback(message)
