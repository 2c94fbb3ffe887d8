"""Paypro wire models and their mapping to our domain (status codes, next actions, failures)."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paygate.models import Failure, ProviderUpdate, QrAction
from paygate.money import parse_vnd
from paygate.status import PaymentStatus

SUCCESS = "0000"
PROCESSING = "0015"
BANK_NAME_VIETQR = "VietQR"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class PayinData(_Wire):
    platFormTradeNo: str | None = None
    status: str | None = None
    desc: str | None = None
    remark: str | None = None
    paymentLink: str | None = None


class PayoutData(_Wire):
    """`data` of a payout answer or a payout/payin query."""

    platFormTradeNo: str | None = None
    tradeNo: str | None = None
    amount: str | None = None
    status: str | None = None
    desc: str | None = None


class Balance(_Wire):
    """`data` of `queryBalance`; one docs example spells `availablAmount` (accepted too)."""

    availableAmount: str | None = None
    availablAmount: str | None = None
    freezeAmount: str | None = None
    unsettledAmount: str | None = None

    @property
    def available(self) -> str | None:
        return self.availableAmount if self.availableAmount is not None else self.availablAmount


class Envelope(_Wire):
    """Every Paypro answer: outer `code`/`msg` say whether the call worked."""

    code: str
    msg: str | None = None
    success: bool | str | None = None
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS


class Notify(_Wire):
    """The Payment Notify callback (providers.md §3.4)."""

    status: str = Field(min_length=1)
    message: str | None = None
    platFormTradeNo: str | None = None
    tradeNo: str = Field(min_length=1)
    amount: str | None = None
    successTime: str | None = None
    timestamp: str | None = None
    sign: str = Field(min_length=1)

    @field_validator("amount")
    @classmethod
    def _readable_amount(cls, value: str | None) -> str | None:
        if value not in (None, "") and parse_vnd(value) is None:
            raise ValueError("amount must be a whole number of VND")  # never ignored
        return value

    def dedupe_key(self) -> str:
        """Same trade, status and amount = same fact, however often it is re-sent."""
        fact = "|".join((self.tradeNo, self.status, self.amount or "", self.platFormTradeNo or ""))
        return hashlib.sha256(fact.encode()).hexdigest()[:40]


def map_status(code: str) -> PaymentStatus:
    """Paypro business status → ours: only `0000` succeeds, `0015` is in progress, every other
    code is a failure code (providers.md §3.5)."""
    match code:
        case "0000":
            return PaymentStatus.SUCCEEDED
        case "0015":
            return PaymentStatus.PROCESSING
        case _:
            return PaymentStatus.FAILED


def decline_failure(code: str, message: str | None) -> Failure:
    return Failure(
        code="provider_declined",
        message=f"Paypro declined the payment (code {code}{': ' + message if message else ''})",
        provider_code=code,
        provider_message=message,
    )


def update_from_notify(notify: Notify) -> ProviderUpdate:
    status = map_status(notify.status)
    return ProviderUpdate(
        status=status,
        provider_reference=notify.platFormTradeNo,
        amount_received=parse_vnd(notify.amount) if notify.amount is not None else None,
        failure=decline_failure(notify.status, notify.message)
        if status is PaymentStatus.FAILED
        else None,
    )


def update_from_payin(data: PayinData) -> ProviderUpdate:
    """A created payin (`0000` or `0015`, assumed both to mean "order created") waits for the
    customer to pay through the payment link; any other status is a refusal (providers.md §3.3:
    the payin answer's `data.status` values beyond the docs' example are INFERRED)."""
    status = data.status or ""
    if status in (SUCCESS, PROCESSING):
        if not data.paymentLink:  # accepted, but nothing to show: wait for the notify
            return ProviderUpdate(
                status=PaymentStatus.PENDING, provider_reference=data.platFormTradeNo
            )
        return ProviderUpdate(
            status=PaymentStatus.REQUIRES_ACTION,
            provider_reference=data.platFormTradeNo,
            next_action=QrAction(payment_link=data.paymentLink),
        )
    return ProviderUpdate(
        status=PaymentStatus.FAILED,
        provider_reference=data.platFormTradeNo,
        failure=decline_failure(status or "missing", data.desc),
    )


def update_from_payout(data: PayoutData) -> ProviderUpdate:
    """A payout answer: `0000`/`0015` = accepted, being paid out (ASSUMPTION: the payout
    answer's `data` beyond the envelope is not readable in the docs; the result comes by
    notify or query); any other status is a refusal."""
    status = data.status or ""
    if status in (SUCCESS, PROCESSING):
        return ProviderUpdate(
            status=PaymentStatus.PROCESSING, provider_reference=data.platFormTradeNo
        )
    return ProviderUpdate(
        status=PaymentStatus.FAILED,
        provider_reference=data.platFormTradeNo,
        failure=decline_failure(status or "missing", data.desc),
    )


def update_from_query(data: PayoutData) -> ProviderUpdate:
    """A payin/payout query answer, mapped like a notify."""
    status = map_status(data.status or "")
    return ProviderUpdate(
        status=status,
        provider_reference=data.platFormTradeNo,
        amount_received=parse_vnd(data.amount) if data.amount and status.is_terminal else None,
        failure=decline_failure(data.status or "missing", data.desc)
        if status is PaymentStatus.FAILED
        else None,
    )
