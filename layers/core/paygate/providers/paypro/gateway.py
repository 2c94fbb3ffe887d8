"""Paypro flows: create a VietQR payin, ingest a verified notify."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from paygate.credentials import load_credentials
from paygate.errors import MalformedRequest, SignatureInvalid
from paygate.json_body import json_object
from paygate.ledger import Ledger
from paygate.masking import erase
from paygate.models import Payment, Provider, WebhookOutcome, payment_for
from paygate.money import Method, Operation, check_amount
from paygate.observability import metrics
from paygate.providers.paypro import signing
from paygate.providers.paypro.client import PayproClient, PayproCredentials
from paygate.providers.paypro.transformers import Notify, update_from_notify, update_from_payin
from paygate.requests import PayproPaymentRequest

WEBHOOK_PATH = "/webhooks/paypro"
NOTIFY_ACK = "OK"


class PayproGateway:
    """Paypro payins on top of the shared ledger."""

    def __init__(
        self,
        ledger: Ledger,
        secret_id: str,
        client_factory: Callable[[PayproCredentials], PayproClient] | None = None,
    ) -> None:
        self.ledger = ledger
        self.secret_id = secret_id
        self.client_factory = client_factory

    def credentials(self) -> PayproCredentials:
        return load_credentials(self.secret_id, PayproCredentials)

    def create_payment(self, request: PayproPaymentRequest, notify_url: str) -> Payment:
        """Check limits, record the payment, create the payin; next action: the QR link."""
        check_amount(Method.VIETQR, Operation.SALE, request.amount)
        payment = payment_for(Provider.PAYPRO, request)
        if self.client_factory is None:
            raise RuntimeError("this function is not configured to call Paypro")
        client = self.client_factory(self.credentials())

        def payin(recorded: Payment) -> Any:
            data = client.payin(
                recorded.id, recorded.amount, notify_url, recorded.merchant_reference
            )
            return update_from_payin(data)

        return self.ledger.start(payment, payin)

    def ingest_notify(self, raw_body: str) -> WebhookOutcome:
        """Verify the notify's sign (any active secret), then store and apply it once."""
        fields = json_object(raw_body, numbers_as_text=True)  # sign over the text received
        if not signing.is_valid(fields, self.credentials().verification_secrets()):
            metrics.add_metric(name="WebhookSignatureInvalid", unit=MetricUnit.Count, value=1)
            raise SignatureInvalid("missing or invalid sign", field="sign")
        try:
            notify = Notify.model_validate(fields)
        except ValidationError as exc:
            field = ".".join(str(part) for part in exc.errors()[0]["loc"])
            raise MalformedRequest(
                f"notify field {field} is missing or invalid", field=field
            ) from exc
        return self.ledger.ingest(
            Provider.PAYPRO,
            notify.dedupe_key(),
            erase(fields),
            update_from_notify(notify),
            payment_id=notify.tradeNo,  # our payment id: no lookup by platFormTradeNo needed
        )
