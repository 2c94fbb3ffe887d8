"""Paypro's Payment Notify as a webhook contract (`paygate.webhooks`): signed over its field
values as received (`sign`), read by a strict model (`Notify`), keyed by trade, status and
amount; `tradeNo` is our payment id.

What the MD5 `sign` cannot say is checked here: a merchant number, when the notify carries one,
is ours. `paygate.webhooks` checks the signed `timestamp` is neither too old
(`WebhookChecks.max_age`: Paypro retries a notify 8 times within 24 h) nor more than
`MAX_CLOCK_SKEW` ahead of our clock, since a notify stamped in the future would stay fresh
for ever. A money-moving result is confirmed by
the payin/payout query when `WebhookChecks.confirm` is on (docs/security.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from paygate.domain import Provider, ProviderUpdate, kind_of
from paygate.errors import NotificationRefused
from paygate.json_body import json_object
from paygate.providers.paypro import signing
from paygate.providers.paypro.transformers import Notify, update_from_notify
from paygate.webhooks import DocumentSignedContract, WebhookChecks

NOTIFY_ACK = "OK"


class PayproNotifies(DocumentSignedContract[Notify]):
    model = Notify
    subject = "notify"
    signature_field = "sign"
    ack = NOTIFY_ACK
    signed_time_field = "timestamp"

    def __init__(
        self,
        secrets: Callable[[], Sequence[str]],
        merchant_no: Callable[[], str],
        checks: WebhookChecks | None = None,
        query: Callable[[str], ProviderUpdate] | None = None,
    ) -> None:
        """`secrets` and `merchant_no` come from the Paypro secret; `query` is the payin or
        payout query of a payment id, mapped (needed when `checks.confirm` is on)."""
        super().__init__(Provider.PAYPRO, checks)
        if self.checks.confirm and query is None:
            raise ValueError("confirming Paypro notifies needs the payin/payout query")
        self.secrets = secrets
        self.merchant_no = merchant_no
        self.query = query

    def read(self, raw: bytes) -> dict[str, Any]:
        return json_object(raw, numbers_as_text=True)  # signed over the text received

    def signature_valid(self, document: dict[str, Any]) -> bool:
        return signing.is_valid(document, self.secrets())

    def check(self, message: Notify) -> None:
        if message.merchantNo is not None and message.merchantNo != self.merchant_no():
            raise NotificationRefused(
                "notify is for another Paypro merchant number", field="merchantNo"
            )

    def signed_at(self, message: Notify) -> datetime:
        seconds, milliseconds = divmod(int(message.timestamp), 1000)
        return datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=milliseconds)

    def confirm(self, payment_id: str, message: Notify) -> ProviderUpdate:
        assert self.query is not None  # the constructor requires it when confirming
        return self.query(payment_id)

    def dedupe_key(self, message: Notify, document: dict[str, Any]) -> str:
        return message.dedupe_key()

    def payment_id(self, message: Notify) -> str:
        return message.tradeNo  # our payment id: no lookup by platFormTradeNo needed

    def update(self, message: Notify) -> ProviderUpdate:
        return update_from_notify(message, kind_of(message.tradeNo))
