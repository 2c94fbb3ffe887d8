"""Paypro HTTP client: signs requests, sends the exact bytes it signed, checks both layers of
the answer (outer `code`, inner `data.status`)."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from paygate.errors import ProviderError
from paygate.providers import http
from paygate.providers.paypro import signing
from paygate.providers.paypro.credentials import PayproCredentials
from paygate.providers.paypro.transformers import (
    BANK_NAME_VIETQR,
    Balance,
    Envelope,
    PayinData,
    PayoutData,
)

PROVIDER = "paypro"


class PayproClient(http.ProviderClient[PayproCredentials]):
    provider = PROVIDER

    def payin(self, trade_no: str, amount: int, notify_url: str, remark: str) -> PayinData:
        """Create a VietQR payin (`/v1/payproVN/payin`)."""
        fields = {
            "amount": str(amount),
            "tradeNo": trade_no,
            "notifyUrl": notify_url,
            "bankName": BANK_NAME_VIETQR,
            "remark": remark,
        }
        envelope = self._call("/v1/payproVN/payin", fields)
        try:
            return PayinData.model_validate(envelope.data or {})
        except ValidationError as exc:
            raise ProviderError("Paypro answered an unreadable payin", definitive=False) from exc

    def payout(self, trade_no: str, amount: int, fields: dict[str, str]) -> PayoutData:
        """Send a bank payout (`/v1/payproVN/payout`): accountName, bankName, bankNumber,
        notifyUrl, remark in `fields`."""
        envelope = self._call(
            "/v1/payproVN/payout", {"tradeNo": trade_no, "amount": str(amount), **fields}
        )
        return _data(PayoutData, envelope, "payout")

    def query_payin(self, trade_no: str) -> PayoutData:
        envelope = self._call("/v1/payproVN/queryPayInResult", {"tradeNo": trade_no})
        return _data(PayoutData, envelope, "payin query")

    def query_payout(self, trade_no: str) -> PayoutData:
        envelope = self._call("/v1/payproVN/queryPayOutResult", {"tradeNo": trade_no})
        return _data(PayoutData, envelope, "payout query")

    def balance(self) -> Balance:
        return _data(Balance, self._call("/v1/payproVN/queryBalance", {}), "balance")

    def _call(self, path: str, fields: dict[str, str]) -> Envelope:
        body_fields: dict[str, Any] = {key: value for key, value in fields.items() if value}
        body_fields["timestamp"] = str(int(time.time() * 1000))
        body_fields["sign"] = signing.sign(
            body_fields, self.credentials.app_secret.get_secret_value()
        )
        body = json.dumps(body_fields, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "merchantNo": self.credentials.merchant_no}
        envelope = http.read_answer(Envelope, self._send(path, body, headers), PROVIDER)
        if not envelope.ok:
            # The outer code only says whether the call worked (Paypro's overview page): a
            # system error (`5000`, `8000`), a duplicate trade number after our own retry or
            # any other code leaves the order's fate unknown. Never final: the payment stays
            # pending and reconciliation asks `queryPayInResult`/`queryPayOutResult`.
            raise ProviderError(
                f"Paypro could not complete the request (code {envelope.code}: {envelope.msg})",
                provider_code=envelope.code,
                provider_message=envelope.msg,
                definitive=False,
            )
        return envelope


def _data[M: BaseModel](model: type[M], envelope: Envelope, what: str) -> M:
    try:
        return model.model_validate(envelope.data or {})
    except ValidationError as exc:
        raise ProviderError(f"Paypro answered an unreadable {what}", definitive=False) from exc
