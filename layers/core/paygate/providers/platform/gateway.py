"""ecommpay-platform flows on top of the shared ledger, for one configured provider (ecommpay
or Monetix): create a purchase (Gate or Payment Page), ingest verified callbacks, submit a
clarification, query a payment's status, list banks.

A Gate `sale` answer only means "accepted for processing": the payment becomes `pending` and
the next action (redirect, transfer instructions, clarification) arrives by callback, whose
`payment.id` is our payment id (the platform's Callbacks documentation)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from paygate import webhooks
from paygate.credentials import load_credentials
from paygate.domain import (
    CURRENCY,
    Cause,
    ClarificationAction,
    Method,
    Operation,
    Payment,
    PaymentStatus,
    PayoutDestination,
    Provider,
    ProviderUpdate,
    RedirectAction,
    WebhookOutcome,
    payment_for,
    payout_for,
)
from paygate.errors import (
    InvalidState,
    ProviderError,
    ValidationFailed,
)
from paygate.ledger import Ledger
from paygate.masking import mask_pan
from paygate.observability import logger
from paygate.providers.platform import banks
from paygate.providers.platform.banks import BankList, Channel
from paygate.providers.platform.credentials import PlatformCredentials
from paygate.providers.platform.transformers import update_from_callback
from paygate.providers.platform.webhook import WEBHOOK_ACK, PlatformCallbacks
from paygate.webhooks import WebhookChecks

if TYPE_CHECKING:  # the HTTP client (httpx) and request models are not a webhook's cold start
    from paygate.api_requests import (
        ClarificationRequest,
        EcommpayPayoutRequest,
        PlatformPaymentRequest,
    )
    from paygate.lifecycle import Observation
    from paygate.providers.platform.client import PlatformClient

__all__ = ["WEBHOOK_ACK", "PlatformConfig", "PlatformGateway", "PlatformGateways"]
SALE_PATHS = {
    Method.NAPAS_ATM: "/v2/payment/atm/vietnam/sale",
    Method.NGANLUONG_WALLET: "/v2/payment/wallet/nganluong/sale",
    Method.BANK_TRANSFER: "/v2/payment/bank-transfer/vietnam/sale",
}
PAYOUT_PATHS = {
    Method.NAPAS_ATM: "/v2/payment/atm/vietnam/payout",
    Method.NGANLUONG_WALLET: "/v2/payment/wallet/nganluong/payout",
}
BANK_LIST_PATHS = {
    Operation.SALE: "/v2/info/banks/atm/vietnam/sale/list",
    Operation.PAYOUT: "/v2/info/banks/atm/vietnam/payout/list",
}
TRANSACTION_NOT_FOUND = "3061"
# An amount for bank-list requests made before any payment exists (the docs: "you can specify
# a random value"): the smallest ATM purchase.
BANK_LIST_AMOUNT = 2_000


@dataclass(frozen=True)
class PlatformConfig:
    """One provider on the platform: its secret, hosts and (ecommpay) ATM channel."""

    provider: Provider
    secret_id: str
    gate_url: str
    payment_page_url: str
    atm_channel: Channel = 1
    # How long the customer has (the Payment Page's `best_before`; paygate.lifecycle).
    customer_window: timedelta = timedelta(minutes=30)
    # What a callback's signature cannot prove: its age, and confirmation by status query.
    callback_checks: WebhookChecks = field(default_factory=WebhookChecks)


def _sale_fields(request: PlatformPaymentRequest, payment: Payment) -> dict[str, Any]:
    """The Gate sale body beside `general` (only what the merchant gave)."""
    customer = request.customer.model_dump(exclude_none=True) if request.customer else {}
    customer.pop("full_name", None)
    customer.pop("document", None)
    fields: dict[str, Any] = {
        "customer": customer,
        "payment": {"amount": payment.amount, "currency": payment.currency},
    }
    if payment.description:
        fields["payment"]["description"] = payment.description
    if request.bank_id is not None:
        fields["account"] = {"bank_id": request.bank_id}
    if request.card is not None:
        fields["card"] = request.card.model_dump()  # to the provider only, never stored
    urls = (
        request.return_urls.model_dump(by_alias=True, exclude_none=True)
        if request.return_urls
        else {}
    )
    if request.return_url:
        urls.setdefault("success", request.return_url)
        urls.setdefault("decline", request.return_url)
        urls.setdefault("return", request.return_url)
    if urls:
        fields["return_url"] = urls
    return fields


def _payout_fields(request: EcommpayPayoutRequest, payout: Payment) -> dict[str, Any]:
    """The Gate payout body beside `general` (the docs' payout examples)."""
    fields: dict[str, Any] = {
        "customer": request.customer.model_dump(),
        "payment": {"amount": payout.amount, "currency": payout.currency},
    }
    if payout.description:
        fields["payment"]["description"] = payout.description
    if request.method is Method.NAPAS_ATM:
        fields["account"] = {"bank_id": request.bank_id, "region_id": request.region_id}
        fields["card"] = request.card.model_dump() if request.card else {}  # provider only
    else:
        fields["account"] = {"number": request.account_number}
    return fields


class PlatformGateway:
    """Purchases with one platform provider (ecommpay or Monetix)."""

    def __init__(
        self,
        ledger: Ledger,
        config: PlatformConfig,
        client_factory: Callable[[PlatformCredentials], PlatformClient],
    ) -> None:
        self.ledger = ledger
        self.config = config
        self.client_factory = client_factory
        self.webhook_contract = PlatformCallbacks(
            config.provider,
            lambda: self.credentials().verification_secrets(),
            lambda: self.credentials().project_id,
            config.callback_checks,
            self.queried,
        )
        self.live_banks = banks.LiveBanks(self._live_bank_list)

    @property
    def provider(self) -> Provider:
        return self.config.provider

    def credentials(self) -> PlatformCredentials:
        return load_credentials(self.config.secret_id, PlatformCredentials)

    def _client(self, credentials: PlatformCredentials | None = None) -> PlatformClient:
        return self.client_factory(credentials or self.credentials())

    # -- create --------------------------------------------------------------------------------

    def prepare_payment(self, request: PlatformPaymentRequest) -> Payment:
        """Check every rule; the payment to record (not recorded yet)."""
        # Request rules and models: loaded by the create functions only, not by a webhook.
        from paygate.providers.platform import rules

        rules.check_request(request, self.config.atm_channel)
        if request.bank_id is not None:
            self._check_bank(request.method, Operation.SALE, request.bank_id)
        return payment_for(self.provider, request)

    def create_payment(
        self, request: PlatformPaymentRequest, recorded: Payment | None = None
    ) -> Payment:
        """Check every rule, record the payment (unless `recorded`: prepared and recorded with
        its idempotency record), then start it: a Gate sale (→ `pending`) or a signed Payment
        Page URL (→ `requires_action` redirect)."""
        from paygate.domain import Flow
        from paygate.providers.platform import payment_page

        payment = recorded or self.prepare_payment(request)
        already = recorded is not None
        credentials = self.credentials()
        if request.flow is Flow.PAYMENT_PAGE:
            best_before = payment.created_at + self.config.customer_window
            params = payment_page.page_params(payment, request, credentials.project_id, best_before)
            url = payment_page.signed_url(
                self.config.payment_page_url, params, credentials.secret_key.get_secret_value()
            )
            page = ProviderUpdate(
                status=PaymentStatus.REQUIRES_ACTION, next_action=RedirectAction(url=url)
            )
            return self.ledger.start(payment, lambda _: page, recorded=already)
        client = self._client(credentials)
        fields = _sale_fields(request, payment)

        def sale(sent: Payment) -> ProviderUpdate:
            answer = client.sale(SALE_PATHS[sent.method], sent.id, fields)
            return ProviderUpdate(
                status=PaymentStatus.PENDING, provider_reference=answer.request_id
            )

        return self.ledger.start(payment, sale, recorded=already)

    # -- payouts -------------------------------------------------------------------------------

    def prepare_payout(self, request: EcommpayPayoutRequest) -> Payment:
        """Check every rule; the payout to record (the card only masked; not recorded yet)."""
        from paygate.providers.platform import rules

        rules.check_payout(request)
        if request.bank_id is not None:
            self._check_bank(request.method, Operation.PAYOUT, request.bank_id, request.region_id)
        card = request.card
        destination = PayoutDestination(
            bank_id=request.bank_id,
            region_id=request.region_id,
            card=mask_pan(card.pan) if card else None,
            card_holder=card.card_holder if card else None,
            account_number=request.account_number,
        )
        return payout_for(self.provider, request, destination)

    def create_payout(
        self, request: EcommpayPayoutRequest, recorded: Payment | None = None
    ) -> Payment:
        """Check every rule, record the payout (unless `recorded`), send it to Gate; it is
        `processing` until the result callback arrives."""
        payout = recorded or self.prepare_payout(request)
        client = self._client()
        fields = _payout_fields(request, payout)

        def send(sent: Payment) -> ProviderUpdate:
            answer = client.sale(PAYOUT_PATHS[sent.method], sent.id, fields)
            return ProviderUpdate(
                status=PaymentStatus.PROCESSING, provider_reference=answer.request_id
            )

        return self.ledger.start(payout, send, recorded=recorded is not None)

    # -- callbacks -----------------------------------------------------------------------------

    def ingest(self, raw_body: bytes, headers: Mapping[str, str] | None = None) -> WebhookOutcome:
        """Verify the signature (any active secret) over the values as received, then store the
        callback once and apply it to the payment named by `payment.id`
        (`paygate.webhooks.ingest`)."""
        return webhooks.ingest(self.ledger, self.webhook_contract, raw_body, headers)

    # -- clarification -------------------------------------------------------------------------

    def clarify(self, payment: Payment, request: ClarificationRequest) -> Payment:
        """Send the fields the platform asked for (`/v2/payment/clarification`). The payment
        stays as it is; the platform's next callback (e.g. the redirect) moves it on. The
        values go to the provider only: never stored or logged."""
        action = payment.next_action
        if payment.status is not PaymentStatus.REQUIRES_ACTION or not isinstance(
            action, ClarificationAction
        ):
            raise InvalidState(
                f"payment {payment.id} is {payment.status.value} and waits for no clarification",
                field="status",
            )
        _check_clarification(action.fields, request.fields)
        try:
            self._client().clarify(payment.id, _nested(request.fields))
        except ProviderError as error:
            error.payment_id = payment.id
            raise
        logger.info(
            "clarification sent", extra={"payment_id": payment.id, "fields": sorted(request.fields)}
        )
        return payment

    # -- status query --------------------------------------------------------------------------

    def refresh(self, payment_id: str) -> Payment:
        """Query the payment and apply the answer (see `observe`)."""
        return self.observe(self.ledger.get(payment_id)).payment

    def queried(self, payment_id: str) -> ProviderUpdate:
        """`/v2/payment/status` for `payment_id`, mapped like a callback and not applied (the
        confirmation of a callback). `ProviderError` when the platform cannot answer or does
        not know the payment (3061)."""
        answer = self._client().status(payment_id)
        return update_from_callback(answer.as_callback())

    def observe(self, payment: Payment) -> Observation:
        """`/v2/payment/status`, mapped by the same code as callbacks, applied through the state
        machine (for the reconciliation job). A payment the platform never registered (3061)
        stays as it is and is reported `not_found`."""
        from paygate.lifecycle import Observation  # the reconcile job's path only

        if payment.provider is not self.provider:
            raise InvalidState(f"payment {payment.id} is not a {self.provider} payment", field="id")
        try:
            answer = self._client().status(payment.id)
        except ProviderError as error:
            if error.provider_code == TRANSACTION_NOT_FOUND:
                logger.info("payment unknown to the platform", extra={"payment_id": payment.id})
                return Observation(payment, not_found=True)
            raise
        update = update_from_callback(answer.as_callback())
        return Observation(self.ledger.apply(payment, update, Cause.RECONCILIATION), update)

    # -- bank lists ----------------------------------------------------------------------------

    def bank_list(self, method: Method, operation: Operation) -> BankList:
        """The provider's live list for ATM (`/v2/info/banks/atm/vietnam/...`), or the docs'
        table when the provider cannot answer; bank transfers: the docs' table (Monetix
        documents no bank-list call)."""
        channel = self.config.atm_channel
        documented = banks.bank_list_from_docs(method, operation, channel)
        live = self.live_banks.get(operation) if method is Method.NAPAS_ATM else None
        if live is None:
            return documented
        asked = {"purchase": operation is Operation.SALE, "payout": operation is Operation.PAYOUT}
        regions = documented.regions if live.regions is None else list(live.regions)
        listed = [bank.model_copy(update=asked) for bank in live.banks]
        return documented.model_copy(
            update={"source": "provider", "banks": listed, "regions": regions}
        )

    def _live_bank_list(self, operation: Operation) -> banks.LiveList:
        return self._client().banks(BANK_LIST_PATHS[operation], BANK_LIST_AMOUNT, CURRENCY)

    def _check_bank(
        self, method: Method, operation: Operation, bank_id: int, region_id: int | None = None
    ) -> None:
        """A 422 when the provider's live list (ATM) answers without `bank_id` (or, when it
        names regions, without `region_id`). Without a live list (Monetix bank transfers, or
        the provider cannot answer) the request is passed on: the provider decides, and its
        refusal comes back with its code."""
        live = self.live_banks.get(operation) if method is Method.NAPAS_ATM else None
        if live is None:
            return
        banks.check_listed(live, method, operation, bank_id, self.config.atm_channel)
        if region_id is not None:
            banks.check_listed_region(live, region_id)


def _check_clarification(requested: list[str], given: Mapping[str, object]) -> None:
    if not requested:  # the platform's list could not be read: send what the merchant has
        return
    for path in requested:
        if path not in given:
            raise ValidationFailed(
                f"fields.{path} was asked for by the provider", field=f"fields.{path}"
            )
    for path in given:
        if path not in requested:
            raise ValidationFailed(
                f"fields.{path} was not asked for (asked: {', '.join(requested)})",
                field=f"fields.{path}",
            )


def _nested(fields: Mapping[str, object]) -> dict[str, Any]:
    """`{"card.pan": "4…"}` → `{"card": {"pan": "4…"}}`."""
    nested: dict[str, Any] = {}
    for path, value in fields.items():
        *parents, leaf = path.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


class PlatformGateways:
    """Both platform providers, for actions that start from a payment id."""

    def __init__(self, ledger: Ledger, gateways: Mapping[Provider, PlatformGateway]) -> None:
        self.ledger = ledger
        self.gateways = gateways

    def clarify(self, payment_id: str, request: ClarificationRequest) -> Payment:
        payment = self.ledger.get(payment_id)
        gateway = self.gateways.get(payment.provider)
        if gateway is None:
            raise InvalidState(
                f"clarification is not available for {payment.provider.value} payments", field="id"
            )
        return gateway.clarify(payment, request)

    def bank_list(self, provider: Provider, method: Method, operation: Operation) -> BankList:
        """`GET /v1/{provider}/banks` (a 422 for a list the provider does not have)."""
        banks.check_list_query(provider, method, operation)
        return self.gateways[provider].bank_list(method, operation)
