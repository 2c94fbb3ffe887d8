"""Paypro wire models and their mapping to our domain (status codes, next actions, failures)."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from paygate.domain import (
    PAYMENT_ID_PATTERN,
    Failure,
    Kind,
    PaymentStatus,
    ProviderUpdate,
    QrAction,
)
from paygate.money import parse_vnd

SUCCESS = "0000"
PROCESSING = "0015"
PARTIALLY_PAID = "0001"
# System errors and "unknown error" (Paypro's error-code pages of other corridors): they say
# nothing about the order, so they are never final (docs/lifecycle.md, rule 5).
SYSTEM_CODES = frozenset({"5000", "8000", "00032"})
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


# The Payment Notify's fields in their documented formats. `[0-9]`, not `\d`: pydantic's
# patterns run on Rust's regex, whose `\d` is any Unicode digit.
STATUS_CODE = r"^[0-9]{4,7}$"  # Paypro's codes: 0000, 0015, 0001, 00029, 00032, 0100019, 5000
MS_EPOCH = r"^[0-9]{13}$"  # `timestamp`: milliseconds since the epoch (2001-09-09 to 2286)
# Whole VND, no decimals (Paypro's amounts); longer than we can hold is kept as text and the
# payment needs review (docs/lifecycle.md, rule 7).
VND_DIGITS = r"^[0-9]{1,64}$"
PLATFORM_TRADE_NO = r"^[A-Za-z0-9_-]{1,64}$"  # Paypro's own id, e.g. `jfr6npomvg2qaa49`
# `successTime`, Paypro's local time on success: `yyyy-MM-dd HH:mm:ss` (as a Java platform
# prints it), or ISO 8601 with `T`, optional fraction and offset; empty (not signed) or absent
# otherwise. Read by nobody; bounded so that it carries nothing.
SUCCESS_TIME = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
)
MESSAGE = r"^[^\x00-\x1f\x7f-\x9f]{0,256}$"  # free text, no control characters
MERCHANT_NO = r"^[0-9]{1,20}$"  # the merchant number (10 digits in Paypro's overview)
SIGN = r"^[0-9A-Fa-f]{32}$"  # MD5, hex


class Notify(BaseModel):
    """The Payment Notify callback, exactly as Paypro's "Payment Notify API" documents it:
    every field in its format, no other key (a merchant number is allowed, and must be ours:
    `PayproNotifies.check`). Paypro's MD5 signs `key=value` pairs with no separator, so text
    can move between adjacent values without changing `sign`; with every value held to its
    format, no such re-split of a signed notify validates as a different one."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)

    status: str = Field(pattern=STATUS_CODE)
    message: str = Field(pattern=MESSAGE)
    platFormTradeNo: str = Field(pattern=PLATFORM_TRADE_NO)
    tradeNo: str = Field(pattern=PAYMENT_ID_PATTERN)
    amount: str = Field(pattern=VND_DIGITS)
    successTime: str | None = Field(default=None, pattern=SUCCESS_TIME)
    timestamp: str = Field(pattern=MS_EPOCH)
    merchantNo: str | None = Field(default=None, pattern=MERCHANT_NO)
    sign: str = Field(pattern=SIGN)

    def dedupe_key(self) -> str:
        """Same trade, status and amount = same fact, however often it is re-sent."""
        fact = "|".join((self.tradeNo, self.status, self.amount, self.platFormTradeNo))
        return hashlib.sha256(fact.encode()).hexdigest()[:40]


def map_status(code: str, kind: Kind = Kind.PAYMENT) -> PaymentStatus:
    """Paypro business status → ours (Paypro's status codes): `0000` succeeds; `0015` "in
    progress" means, for a payin, that the order is open and nobody has paid yet, so the payment
    keeps waiting for its customer (`pending` never moves a `requires_action` payment back: its
    QR link stays), and for a payout that the money is on its way (`processing`); `0001`
    (partial payment) moved money, but not as asked (`needs_review`); system errors are no
    news (`pending`); every other code is a failure."""
    if code == SUCCESS:
        return PaymentStatus.SUCCEEDED
    if code == PROCESSING:
        return PaymentStatus.PROCESSING if kind is Kind.PAYOUT else PaymentStatus.PENDING
    if code == PARTIALLY_PAID:
        return PaymentStatus.NEEDS_REVIEW
    if code in SYSTEM_CODES:
        return PaymentStatus.PENDING
    return PaymentStatus.FAILED


def decline_failure(code: str, message: str | None) -> Failure:
    return Failure(
        code="provider_declined",
        message=f"Paypro declined the payment (code {code}{': ' + message if message else ''})",
        provider_code=code,
        provider_message=message,
    )


_MONEY_MOVED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.NEEDS_REVIEW})


def _reported(
    status: PaymentStatus, code: str, message: str | None, amount: str | None, reference: str | None
) -> ProviderUpdate:
    """A notify's or query's result. A reported amount that is not a whole number of VND
    DynamoDB can hold is never ignored and never trusted: the payment goes `needs_review`
    (the raw notify keeps the text)."""
    failure = decline_failure(code, message) if status is PaymentStatus.FAILED else None
    if status is PaymentStatus.NEEDS_REVIEW:
        failure = Failure(
            code="provider_reported_partially_paid",
            message=f"Paypro reported a partial payment (code {code}): a merchant must look",
            provider_code=code,
            provider_message=message,
        )
    received = parse_vnd(amount) if amount not in (None, "") else None
    if amount not in (None, "") and received is None and status is PaymentStatus.SUCCEEDED:
        return ProviderUpdate(
            status=PaymentStatus.NEEDS_REVIEW,
            provider_reference=reference,
            failure=Failure(
                code="amount_unreadable",
                message=f"Paypro reported success with an amount we cannot read: {amount!r:.80}",
                provider_code=code,
                provider_message=message,
            ),
        )
    return ProviderUpdate(
        status=status,
        provider_reference=reference,
        amount_received=received if status in _MONEY_MOVED else None,
        failure=failure,
    )


def update_from_notify(notify: Notify, kind: Kind = Kind.PAYMENT) -> ProviderUpdate:
    return _reported(
        map_status(notify.status, kind),
        notify.status,
        notify.message,
        notify.amount,
        notify.platFormTradeNo,
    )


def update_from_payin(data: PayinData) -> ProviderUpdate:
    """A created payin (`0000` or `0015`, assumed both to mean "order created") waits for the
    customer to pay through the payment link; any other status is a refusal (Paypro's "Payment API":
    the payin answer's `data.status` values beyond the docs' example are INFERRED). A missing
    status or a system code says nothing final: `pending`, settled by query."""
    status = data.status or ""
    if not status or status in SYSTEM_CODES:
        return ProviderUpdate(status=PaymentStatus.PENDING, provider_reference=data.platFormTradeNo)
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
    notify or query). The outer code already said the call worked, so an answer without a
    status (or with a system code) is accepted too: a payout is never failed without an
    explicit decline. Any other status is a refusal."""
    status = data.status or ""
    if not status or status in SYSTEM_CODES or status in (SUCCESS, PROCESSING):
        return ProviderUpdate(
            status=PaymentStatus.PROCESSING, provider_reference=data.platFormTradeNo
        )
    return ProviderUpdate(
        status=PaymentStatus.FAILED,
        provider_reference=data.platFormTradeNo,
        failure=decline_failure(status or "missing", data.desc),
    )


def update_from_query(data: PayoutData, kind: Kind = Kind.PAYMENT) -> ProviderUpdate:
    """A payin/payout query answer, mapped like a notify; an answer without a status says
    nothing (`pending` moves nothing forward)."""
    if not data.status:
        return ProviderUpdate(status=PaymentStatus.PENDING, provider_reference=data.platFormTradeNo)
    code = data.status
    return _reported(map_status(code, kind), code, data.desc, data.amount, data.platFormTradeNo)
