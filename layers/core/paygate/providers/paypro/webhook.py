"""Paypro's Payment Notify as a webhook contract (`paygate.webhooks`): signed over its field
values as received (`sign`), keyed by trade, status and amount, `tradeNo` is our payment id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from paygate.domain import Provider, ProviderUpdate, kind_of
from paygate.json_body import json_object
from paygate.providers.paypro import signing
from paygate.providers.paypro.transformers import Notify, update_from_notify
from paygate.webhooks import DocumentSignedContract

NOTIFY_ACK = "OK"


class PayproNotifies(DocumentSignedContract[Notify]):
    model = Notify
    subject = "notify"
    signature_field = "sign"
    ack = NOTIFY_ACK

    def __init__(self, secrets: Callable[[], Sequence[str]]) -> None:
        super().__init__(Provider.PAYPRO)
        self.secrets = secrets

    def read(self, raw: bytes) -> dict[str, Any]:
        return json_object(raw, numbers_as_text=True)  # signed over the text received

    def signature_valid(self, document: dict[str, Any]) -> bool:
        return signing.is_valid(document, self.secrets())

    def dedupe_key(self, message: Notify, document: dict[str, Any]) -> str:
        return message.dedupe_key()

    def payment_id(self, message: Notify) -> str:
        return message.tradeNo  # our payment id: no lookup by platFormTradeNo needed

    def update(self, message: Notify) -> ProviderUpdate:
        return update_from_notify(message, kind_of(message.tradeNo))
