"""Smart Glocal webhooks as a webhook contract (`paygate.webhooks`): `X-PARTNER-SIGN` signs the
exact body bytes; our payment id is in the session's metadata, the session id is the provider
reference. Unknown types are stored and acknowledged. Hooks: an `auto` payment's
`ready_to_confirm` keeps it `pending` (`held_for_us`), then the gateway confirms it once per
stored webhook (the follow-up the contract is given); a session cancelled while its payment
waits for the merchant's confirmation is left to the cancel action or the window
(`held_until_decided`).

What the signature proves: Smart Glocal's RSA key signed exactly these bytes. That key signs
nothing the customer (or the merchant) ever sees, and we sign our requests with our own key, so
no text shown to anyone can be replayed as a webhook (docs/security.md). What it does not
prove: that the webhook is recent (`session.updated_at`, signed in the body, must be within
`checks.max_age` and at most `paygate.webhooks.MAX_CLOCK_SKEW` ahead of our clock) or that it
is about our payment in our format (the strict `Webhook` model; the metadata's payment ids
must agree).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from paygate.domain import (
    Confirmation,
    Kind,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
)
from paygate.errors import NotificationRefused
from paygate.providers.smartglocal import signing
from paygate.providers.smartglocal.transformers import (
    KNOWN_WEBHOOK_TYPES,
    PAYMENT_ID_KEY,
    Webhook,
    update_from_session,
)
from paygate.transition import can_reach
from paygate.webhooks import WebhookChecks, WebhookContract, moves_money

WEBHOOK_ACK = {"status": "ok"}
# Confirm `payment` at Smart Glocal (session id); the gateway's follow-up.
AutoConfirm = Callable[[Payment, str], None]
# The session status query for our payment id (and the webhook's session id, when we hold
# none), mapped like a webhook; raises ProviderError when it cannot answer.
StatusQuery = Callable[[str, str], ProviderUpdate]


def held_for_us(payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
    """For an `auto` payment, waiting for confirmation is the gateway's job, not the
    merchant's: it stays `pending` instead of `requires_confirmation`."""
    held = update.status is PaymentStatus.REQUIRES_CONFIRMATION
    if held and payment.confirmation is Confirmation.AUTO:
        return update.model_copy(update={"status": PaymentStatus.PENDING})
    return update


def held_until_decided(payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
    """A cancelled session (`expired`) reported while the payment waits for its merchant's
    confirmation is not applied from the webhook: the cancel was the merchant's own request
    (`POST /v1/payments/{id}/cancel`, whose answer may reach us after this webhook, and which
    applies `cancelled`) or Smart Glocal's end of the 240-minute hold (the reconciler's query at
    the window's end applies `expired`). Either way no money moved, and what the payment
    becomes is decided by its own action or its window, not by which message came first."""
    waiting = payment.status is PaymentStatus.REQUIRES_CONFIRMATION
    if waiting and update.status is PaymentStatus.EXPIRED:
        return update.model_copy(
            update={"status": PaymentStatus.REQUIRES_CONFIRMATION, "failure": None}
        )
    return held_for_us(payment, update)


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
    signed_time_field: ClassVar[str | None] = "session.updated_at"

    def __init__(
        self,
        keys: Callable[[], Sequence[str]],
        amount_factor: int,
        auto_confirm: AutoConfirm,
        *,
        checks: WebhookChecks | None = None,
        query: StatusQuery | None = None,
    ) -> None:
        super().__init__(Provider.SMARTGLOCAL, checks)
        self.keys = keys
        self.amount_factor = amount_factor
        self.auto_confirm = auto_confirm
        self.query = query

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

    def check(self, message: Webhook) -> None:
        """Our payment id, wherever the metadata carries it, is one id."""
        if len(set(message.session.payment_ids())) > 1:
            raise NotificationRefused(
                f"webhook metadata names more than one {PAYMENT_ID_KEY}",
                field=f"session.metadata.{PAYMENT_ID_KEY}",
            )

    def signed_at(self, message: Webhook) -> datetime:
        return message.session.updated_at

    def confirm(self, payment_id: str, message: Webhook) -> ProviderUpdate:
        """`session/status` of the payment's session (`SMARTGLOCAL_CONFIRM_BY_QUERY`)."""
        if self.query is None:
            raise NotImplementedError("no Smart Glocal status query was given")
        return self.query(payment_id, message.session.id)

    def needs_payment(self, update: ProviderUpdate) -> bool:
        # A result to confirm needs our payment id even when the metadata lacks it.
        # A cancelled session needs it too: `held_until_decided`.
        held = update.status is PaymentStatus.REQUIRES_CONFIRMATION
        cancelled = update.status is PaymentStatus.EXPIRED
        return held or cancelled or (self.checks.confirm and moves_money(update, Kind.PAYMENT))

    def adjust(self, payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
        return held_until_decided(payment, update)

    def after_stored(self, payment: Payment, message: Webhook) -> None:
        # Stored first: only the delivery that stored it (not a redelivery) confirms.
        update = self.update(message)
        held = update is not None and update.status is PaymentStatus.REQUIRES_CONFIRMATION
        if held and confirmable(payment):
            self.auto_confirm(payment, message.session.id)
