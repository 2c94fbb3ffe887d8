"""Smart Glocal webhooks as a webhook contract (`paygate.webhooks`): `X-PARTNER-SIGN` signs the
exact body bytes; our payment id is in the session's metadata, the session id is the provider
reference. Unknown types are stored and acknowledged. Hooks: an `auto` payment's
`ready_to_confirm` keeps it `pending` (`held_for_us`), then the gateway confirms it once per
stored webhook (the follow-up the contract is given)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paygate.domain import Confirmation, Payment, PaymentStatus, Provider, ProviderUpdate
from paygate.providers.smartglocal import signing
from paygate.providers.smartglocal.transformers import (
    KNOWN_WEBHOOK_TYPES,
    Webhook,
    update_from_session,
)
from paygate.transition import can_reach
from paygate.webhooks import WebhookContract

WEBHOOK_ACK = {"status": "ok"}
# Confirm `payment` at Smart Glocal (session id); the gateway's follow-up.
AutoConfirm = Callable[[Payment, str], None]


def held_for_us(payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
    """For an `auto` payment, waiting for confirmation is the gateway's job, not the
    merchant's: it stays `pending` instead of `requires_confirmation`."""
    held = update.status is PaymentStatus.REQUIRES_CONFIRMATION
    if held and payment.confirmation is Confirmation.AUTO:
        return update.model_copy(update={"status": PaymentStatus.PENDING})
    return update


def confirmable(payment: Payment) -> bool:
    """An `auto` payment the gateway itself still confirms: the confirm's outcome
    (`requires_action`, then the result) would still move it forward."""
    auto = payment.confirmation is Confirmation.AUTO
    return auto and can_reach(payment, PaymentStatus.REQUIRES_ACTION)


class SmartglocalWebhooks(WebhookContract[Webhook]):
    model = Webhook
    subject = "webhook"
    signature_field = signing.SIGN_HEADER
    ack = WEBHOOK_ACK

    def __init__(
        self, keys: Callable[[], Sequence[str]], amount_factor: int, auto_confirm: AutoConfirm
    ) -> None:
        super().__init__(Provider.SMARTGLOCAL)
        self.keys = keys
        self.amount_factor = amount_factor
        self.auto_confirm = auto_confirm

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        wanted = signing.SIGN_HEADER.lower()
        signature = next((v for k, v in headers.items() if k.lower() == wanted), None)
        return signing.is_valid(raw, signature, self.keys())

    def dedupe_key(self, message: Webhook, document: dict[str, Any]) -> str:
        return message.dedupe_key()

    def payment_id(self, message: Webhook) -> str | None:
        return message.session.our_payment_id()

    def provider_reference(self, message: Webhook) -> str:
        return message.session.id

    def update(self, message: Webhook) -> ProviderUpdate | None:
        if message.type not in KNOWN_WEBHOOK_TYPES:
            return None
        return update_from_session(message.session, message.type, self.amount_factor)

    def message_type(self, message: Webhook) -> str | None:
        return message.type

    def needs_payment(self, update: ProviderUpdate) -> bool:
        return update.status is PaymentStatus.REQUIRES_CONFIRMATION

    def adjust(self, payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
        return held_for_us(payment, update)

    def after_stored(self, payment: Payment, message: Webhook) -> None:
        # Stored first: only the delivery that stored it (not a redelivery) confirms.
        if confirmable(payment):
            self.auto_confirm(payment, message.session.id)
