"""Paypro flows on top of the shared ledger: VietQR payins and payouts, their notifies (one
webhook contract, `paygate.providers.paypro.webhook`), status queries and the balance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from paygate import webhooks
from paygate.credentials import load_credentials
from paygate.domain import (
    Cause,
    Kind,
    Method,
    Operation,
    Payment,
    PayoutDestination,
    Provider,
    ProviderUpdate,
    WebhookOutcome,
    kind_of,
    payment_for,
    payout_for,
)
from paygate.ledger import Ledger
from paygate.money import check_amount, parse_vnd
from paygate.providers.paypro import payouts
from paygate.providers.paypro.credentials import PayproCredentials
from paygate.providers.paypro.transformers import (
    update_from_payin,
    update_from_payout,
    update_from_query,
)
from paygate.providers.paypro.webhook import NOTIFY_ACK, PayproNotifies

if TYPE_CHECKING:  # the HTTP client (httpx) and request models are not a webhook's cold start
    from paygate.api_requests import PayproPaymentRequest, PayproPayoutRequest
    from paygate.lifecycle import Observation
    from paygate.providers.paypro.client import PayproClient

WEBHOOK_PATH = "/webhooks/paypro"
__all__ = ["NOTIFY_ACK", "WEBHOOK_PATH", "PayproGateway"]


class BalanceResponse(BaseModel):
    """`GET /v1/paypro/balance`: the merchant's Paypro balance in VND."""

    currency: str
    available: int
    frozen: int
    unsettled: int


class PayoutBankList(BaseModel):
    """`GET /v1/paypro/banks`: the `bank_name` values a Paypro payout accepts."""

    operation: str = "payout"
    source: str = "docs"
    banks: list[payouts.PayoutBank]


def payout_bank_list() -> PayoutBankList:
    return PayoutBankList(banks=list(payouts.payout_banks()))


class PayproGateway:
    """Paypro payins and payouts on top of the shared ledger."""

    def __init__(
        self,
        ledger: Ledger,
        secret_id: str,
        client_factory: Callable[[PayproCredentials], PayproClient] | None = None,
        checks: webhooks.WebhookChecks | None = None,
    ) -> None:
        """`checks`: the notify's age limit and whether a money-moving notify is confirmed by
        the payin/payout query (which needs `client_factory`)."""
        self.ledger = ledger
        self.secret_id = secret_id
        self.client_factory = client_factory
        self.webhook_contract = PayproNotifies(
            lambda: self.credentials().verification_secrets(),
            lambda: self.credentials().merchant_no,
            checks,
            self.query if client_factory is not None else None,
        )

    def credentials(self) -> PayproCredentials:
        return load_credentials(self.secret_id, PayproCredentials)

    def prepare_payment(self, request: PayproPaymentRequest) -> Payment:
        """Check limits; the payment to record (not recorded yet)."""
        check_amount(Method.VIETQR, Operation.SALE, request.amount)
        return payment_for(Provider.PAYPRO, request)

    def create_payment(
        self, request: PayproPaymentRequest, notify_url: str, recorded: Payment | None = None
    ) -> Payment:
        """Check limits, record the payment (unless `recorded`: prepared and recorded with its
        idempotency record), create the payin; next action: the QR link."""
        payment = recorded or self.prepare_payment(request)
        if self.client_factory is None:
            raise RuntimeError("this function is not configured to call Paypro")
        client = self.client_factory(self.credentials())

        def payin(sent: Payment) -> Any:
            data = client.payin(sent.id, sent.amount, notify_url, sent.merchant_reference)
            return update_from_payin(data)

        return self.ledger.start(payment, payin, recorded=recorded is not None)

    def _checkout_client(self) -> PayproClient:
        if self.client_factory is None:
            raise RuntimeError("this function is not configured to call Paypro")
        return self.client_factory(self.credentials())

    def prepare_payout(self, request: PayproPayoutRequest) -> Payment:
        """Check the amount, account name and bank; the payout to record (not recorded yet)."""
        check_amount(Method.BANK_TRANSFER, Operation.PAYOUT, request.amount)
        payouts.check_account_name(request.account_name)
        payouts.check_bank_name(request.bank_name)
        destination = PayoutDestination(
            account_name=request.account_name,
            bank_name=request.bank_name,
            account_number=request.bank_number,
        )
        return payout_for(Provider.PAYPRO, request, destination)

    def create_payout(
        self, request: PayproPayoutRequest, notify_url: str, recorded: Payment | None = None
    ) -> Payment:
        """Check the payout, record it (unless `recorded`), send it; it is `processing` until
        Paypro's notify (the same webhook route) or a query says more."""
        payout = recorded or self.prepare_payout(request)
        client = self._checkout_client()
        fields = {
            "accountName": request.account_name,
            "bankName": request.bank_name,
            "bankNumber": request.bank_number,
            "notifyUrl": notify_url,
            "remark": request.merchant_reference,
        }

        def send(sent: Payment) -> Any:
            return update_from_payout(client.payout(sent.id, sent.amount, fields))

        return self.ledger.start(payout, send, recorded=recorded is not None)

    def refresh(self, payment_id: str) -> Payment:
        """Query the payment or payout and apply the answer (see `observe`)."""
        return self.observe(self.ledger.get(payment_id)).payment

    def observe(self, payment: Payment) -> Observation:
        """`queryPayInResult` (payments) or `queryPayOutResult` (payouts), mapped like a
        notify, applied through the state machine (for the reconciliation job)."""
        from paygate.lifecycle import Observation  # the reconcile job's path only

        update = self.query(payment.id)
        return Observation(self.ledger.apply(payment, update, Cause.RECONCILIATION), update)

    def query(self, payment_id: str) -> ProviderUpdate:
        """What `queryPayInResult` (a payment) or `queryPayOutResult` (a payout) says of
        `payment_id`, mapped like a notify; `ProviderError` when Paypro cannot answer."""
        client = self._checkout_client()
        kind = kind_of(payment_id)
        if kind is Kind.PAYOUT:
            data = client.query_payout(payment_id)
        else:
            data = client.query_payin(payment_id)
        return update_from_query(data, kind)

    def balance(self) -> BalanceResponse:
        """`queryBalance` (both spellings of the available amount accepted)."""
        answer = self._checkout_client().balance()
        return BalanceResponse(
            currency="VND",
            available=parse_vnd(answer.available or "0") or 0,
            frozen=parse_vnd(answer.freezeAmount or "0") or 0,
            unsettled=parse_vnd(answer.unsettledAmount or "0") or 0,
        )

    def ingest(self, raw_body: bytes, headers: Mapping[str, str] | None = None) -> WebhookOutcome:
        """Verify a notify's sign (any active secret), then store and apply it once
        (`paygate.webhooks.ingest`)."""
        return webhooks.ingest(self.ledger, self.webhook_contract, raw_body, headers)
