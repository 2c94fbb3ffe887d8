"""Platform (ecommpay, Monetix) callbacks as a webhook contract (`paygate.webhooks`): signed
over their values as received (root `signature`), keyed by every signed value, `payment.id`
is our payment id."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paygate.domain import Provider, ProviderUpdate
from paygate.json_body import json_object
from paygate.providers.platform import signing
from paygate.providers.platform.transformers import dedupe_key, update_from_callback
from paygate.providers.platform.wire import Callback
from paygate.webhooks import DocumentSignedContract

WEBHOOK_ACK = {"status": "ok"}


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
    ack = WEBHOOK_ACK

    def __init__(self, provider: Provider, secrets: Callable[[], Sequence[str]]) -> None:
        super().__init__(provider)
        self.secrets = secrets

    def read(self, raw: bytes) -> dict[str, Any]:
        return json_object(raw, numbers_as_text=True)  # signed over the values as received

    def signature_valid(self, document: dict[str, Any]) -> bool:
        return signing.is_valid(document, self.secrets())

    def verified(self, raw: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
        document = self.read(raw)
        signed = signing.signed_text(document, self.secrets())
        return None if signed is None else SignedCallback(document, signed)

    def dedupe_key(self, message: Callback, document: dict[str, Any]) -> str:
        signed = document.signed if isinstance(document, SignedCallback) else None
        return dedupe_key(document, signed)

    def payment_id(self, message: Callback) -> str:
        return message.payment.id

    def update(self, message: Callback) -> ProviderUpdate:
        return update_from_callback(message)
