"""Smart Glocal flows on top of the shared ledger: create an e-wallet payment, ingest verified
webhooks, confirm or cancel a payment held for confirmation, query a session's status.

Confirmation (`ready_to_confirm`), chosen per payment at create:
- `manual`: the payment moves to `requires_confirmation`; the merchant calls
  `POST /v1/payments/{id}/confirm` or `/cancel` (→ `session/confirm` / `session/cancel`).
- `auto`: the webhook is stored first (its dedupe key makes a redelivery a no-op, so the
  gateway calls `session/confirm` once per webhook), the payment stays `pending`, then the
  gateway confirms. If that call fails, the webhook is already stored and acknowledged (200)
  and the payment falls back to `requires_confirmation` with failure `auto_confirm_failed`
  (one published event): the merchant can confirm or cancel it through the API, and
  `refresh` (session/status, for the reconcile job) confirms it again. Smart Glocal itself
  cancels a session left unconfirmed for 240 minutes (its webhooks documentation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from aws_lambda_powertools.metrics import MetricUnit

from paygate import webhooks
from paygate.credentials import load_credentials
from paygate.domain import (
    Cause,
    Confirmation,
    Failure,
    Method,
    Operation,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    WebhookOutcome,
    payment_for,
)
from paygate.errors import InvalidState, ProviderError
from paygate.ledger import Ledger
from paygate.lifecycle import Observation
from paygate.money import check_amount
from paygate.observability import logger, metrics
from paygate.providers.smartglocal.client import SmartglocalClient, SmartglocalCredentials
from paygate.providers.smartglocal.transformers import (
    Session,
    metadata_of,
    payment_fields,
    update_from_session,
)
from paygate.providers.smartglocal.webhook import (
    WEBHOOK_ACK,
    SmartglocalWebhooks,
    confirmable,
    held_for_us,
)

if TYPE_CHECKING:
    from paygate.api_requests import SmartglocalPaymentRequest

WEBHOOK_PATH = "/webhooks/smartglocal"
__all__ = ["WEBHOOK_ACK", "WEBHOOK_PATH", "SmartglocalGateway", "SmartglocalOptions"]


@dataclass(frozen=True)
class SmartglocalOptions:
    """Per-deployment knobs (settings `SMARTGLOCAL_SESSION_FLOW`, `SMARTGLOCAL_AMOUNT_FACTOR`;
    `webhook_checks` from `SMARTGLOCAL_WEBHOOK_MAX_AGE_HOURS`, `SMARTGLOCAL_CONFIRM_BY_QUERY`)."""

    session_flow: Literal["init", "create_start"] = "init"
    amount_factor: int = 1
    webhook_checks: webhooks.WebhookChecks = field(default_factory=webhooks.WebhookChecks)


class SmartglocalGateway:
    """Smart Glocal e-wallet payments on top of the shared ledger."""

    def __init__(
        self,
        ledger: Ledger,
        secret_id: str,
        client_factory: Callable[[SmartglocalCredentials], SmartglocalClient],
        options: SmartglocalOptions | None = None,
    ) -> None:
        self.ledger = ledger
        self.secret_id = secret_id
        self.client_factory = client_factory
        self.options = options or SmartglocalOptions()
        self.webhook_contract = SmartglocalWebhooks(
            lambda: self.credentials().verification_keys(),
            self.options.amount_factor,
            self._auto_confirm,
            checks=self.options.webhook_checks,
            query=self._query,
        )

    def credentials(self) -> SmartglocalCredentials:
        return load_credentials(self.secret_id, SmartglocalCredentials)

    def _client(self) -> SmartglocalClient:
        return self.client_factory(self.credentials())

    # -- create --------------------------------------------------------------------------------

    def prepare_payment(self, request: SmartglocalPaymentRequest) -> Payment:
        """Check limits; the payment to record (not recorded yet)."""
        check_amount(Method.EWALLET, Operation.SALE, request.amount)
        return payment_for(Provider.SMARTGLOCAL, request, confirmation=request.confirmation)

    def create_payment(
        self, request: SmartglocalPaymentRequest, recorded: Payment | None = None
    ) -> Payment:
        """Record the payment (unless `recorded`: prepared and recorded with its idempotency
        record) and start it at Smart Glocal; the session id becomes the provider reference.
        What happens next arrives by webhook."""
        payment = recorded or self.prepare_payment(request)
        client = self._client()
        customer = request.customer
        # ASSUMPTION: Smart Glocal's `customer.reference` is our merchant's customer id; the
        # email stands in when the merchant sends none.
        fields = payment_fields(
            payment,
            customer_reference=customer.id or customer.email,
            email=customer.email,
            full_name=customer.full_name,
            document=customer.document,
            return_url=request.return_url,
            amount_factor=self.options.amount_factor,
        )

        def start(sent: Payment) -> ProviderUpdate:
            # Idempotency keys derive from our payment id, so a retried call cannot start a
            # second payment (Smart Glocal's idempotency keys, as the Bank 131 SDK sends them).
            if self.options.session_flow == "create_start":
                created = client.create_session(
                    {"metadata": metadata_of(sent)}, f"{sent.id}-create"
                )
                session = client.start_payment(created.id, fields, f"{sent.id}-start")
            else:
                session = client.init_payment(fields, sent.id)
            return held_for_us(sent, update_from_session(session, None, self._factor))

        return self.ledger.start(payment, start, recorded=recorded is not None)

    @property
    def _factor(self) -> int:
        return self.options.amount_factor

    # -- webhooks ------------------------------------------------------------------------------

    def ingest(self, raw_body: bytes, headers: Mapping[str, str] | None = None) -> WebhookOutcome:
        """Verify `X-PARTNER-SIGN` over the raw bytes (any active key), then store the webhook
        once and apply it (`paygate.webhooks.ingest`); unknown types are stored, counted and
        acknowledged; an `auto` payment's `ready_to_confirm` is confirmed once."""
        return webhooks.ingest(self.ledger, self.webhook_contract, raw_body, headers)

    def _query(self, payment_id: str, session_id: str) -> ProviderUpdate:
        """`session/status` of the session we hold for `payment_id` (else the webhook's),
        mapped like a webhook: what confirms a webhook's result. Raises `ProviderError`."""
        payment = self.ledger.find(Provider.SMARTGLOCAL, payment_id, None)
        reference = payment.provider_reference if payment else None
        session = self._client().status(reference or session_id)
        return update_from_session(session, None, self._factor)

    def _auto_confirm(self, payment: Payment, session_id: str) -> None:
        try:
            session = self._client().confirm(session_id)
        except ProviderError as error:
            metrics.add_metric(name="SmartglocalAutoConfirmFailed", unit=MetricUnit.Count, value=1)
            logger.warning(
                "auto-confirm failed; payment left for confirmation",
                extra={"payment_id": payment.id, "provider_code": error.provider_code},
            )
            failure = Failure(
                code="auto_confirm_failed",
                message=(
                    f"the gateway could not confirm the payment at Smart Glocal ({error.message});"
                    " confirm or cancel it with POST /v1/payments/{id}/confirm or /cancel"
                ),
                provider_code=error.provider_code,
                provider_message=error.provider_message,
            )
            update = ProviderUpdate(
                status=PaymentStatus.REQUIRES_CONFIRMATION,
                provider_reference=session_id,
                failure=failure,
            )
            self.ledger.apply(self.ledger.get(payment.id), update, Cause.WEBHOOK)
            return
        metrics.add_metric(name="SmartglocalAutoConfirmed", unit=MetricUnit.Count, value=1)
        self._apply_answer(payment.id, session, Cause.WEBHOOK)

    def _apply_answer(self, payment_id: str, session: Session, cause: Cause) -> Payment:
        """Apply a session answer (confirm, cancel, status) to the payment as it is now."""
        payment = self.ledger.get(payment_id)
        update = update_from_session(session, None, self._factor)
        if update.status is PaymentStatus.REQUIRES_CONFIRMATION:
            # Answering a confirm/status call while still waiting: nothing new to report.
            return payment
        return self.ledger.apply(payment, update, cause)

    # -- merchant actions ----------------------------------------------------------------------

    def confirm(self, payment_id: str) -> Payment:
        """`session/confirm` for a payment in `requires_confirmation`; the payment moves on
        when Smart Glocal's `action_required` webhook arrives."""
        payment = self._waiting(payment_id, "confirm")
        session = self._provider_call(payment, lambda c, ref: c.confirm(ref))
        return self._apply_answer(payment.id, session, Cause.MERCHANT_ACTION)

    def cancel(self, payment_id: str) -> Payment:
        """`session/cancel` for a payment in `requires_confirmation`: `cancelled` at once."""
        payment = self._waiting(payment_id, "cancel")
        session = self._provider_call(payment, lambda c, ref: c.cancel(ref))
        update = update_from_session(session, None, self._factor)
        if update.status is PaymentStatus.EXPIRED:  # the session ended by the merchant's cancel
            update = update.model_copy(update={"status": PaymentStatus.CANCELLED, "failure": None})
        return self.ledger.apply(self.ledger.get(payment.id), update, Cause.MERCHANT_ACTION)

    def _waiting(self, payment_id: str, action: str) -> Payment:
        payment = self.ledger.get(payment_id)
        if payment.provider is not Provider.SMARTGLOCAL:
            raise InvalidState(
                f"{action} is not available for {payment.provider.value} payments", field="id"
            )
        if payment.status is not PaymentStatus.REQUIRES_CONFIRMATION or not (
            payment.provider_reference
        ):
            raise InvalidState(
                f"payment {payment.id} is {payment.status.value}; {action} is only possible "
                "while it is requires_confirmation",
                field="status",
            )
        return payment

    def _provider_call(
        self, payment: Payment, call: Callable[[SmartglocalClient, str], Session]
    ) -> Session:
        try:
            return call(self._client(), str(payment.provider_reference))
        except ProviderError as error:
            # The payment stays as it is (Smart Glocal still holds the session): the merchant
            # sees the provider's code in the 502 and may retry.
            error.payment_id = payment.id
            raise

    # -- status query --------------------------------------------------------------------------

    def refresh(self, payment_id: str) -> Payment:
        """Query the session and apply the answer (see `observe`)."""
        return self.observe(self.ledger.get(payment_id)).payment

    def observe(self, payment: Payment) -> Observation:
        """`session/status`, mapped like the webhooks (for the reconciliation job); an `auto`
        payment still waiting for confirmation (lost webhook, failed auto-confirm) is
        confirmed now. A payment without a session is `not_found`."""
        if payment.provider is not Provider.SMARTGLOCAL:
            raise InvalidState(f"payment {payment.id} is not a Smart Glocal payment", field="id")
        if not payment.provider_reference:
            return Observation(payment, not_found=True)
        session = self._client().status(payment.provider_reference)
        update = update_from_session(session, None, self._factor)
        waiting = update.status is PaymentStatus.REQUIRES_CONFIRMATION
        if waiting and payment.confirmation is Confirmation.AUTO:
            if confirmable(payment):
                self._auto_confirm(payment, payment.provider_reference)
            return Observation(self.ledger.get(payment.id), update)
        return Observation(self.ledger.apply(payment, update, Cause.RECONCILIATION), update)

    def cancel_at_provider(self, payment: Payment) -> ProviderUpdate:
        """`session/cancel` when the gateway's window for the payment ran out (Smart Glocal
        would cancel it itself soon after): the answer, mapped, for the caller to apply."""
        if not payment.provider_reference:
            return ProviderUpdate(status=PaymentStatus.CANCELLED)
        session = self._client().cancel(payment.provider_reference)
        return update_from_session(session, None, self._factor)
