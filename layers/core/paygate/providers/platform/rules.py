"""What the platform needs before a purchase may be sent (checked before any provider call,
each refusal a 422 naming the field): amount limits, card use, and the customer fields each
method, channel and flow requires (the three provider docs' "Request format"). Which bank
and region ids are valid is the provider's to say (`banks`: its live list, checked by the
gateway after these rules)."""

from __future__ import annotations

from typing import Any

from paygate.api_requests import EcommpayPayoutRequest, PlatformPaymentRequest
from paygate.domain import Flow, Method, Operation
from paygate.errors import LimitError, ValidationFailed
from paygate.money import check_amount
from paygate.providers.platform.banks import Channel
from paygate.providers.platform.payment_page import check_page_values

VIETCOMBANK_ID = 133
VIETCOMBANK_MINIMUM = 20_000
ATM_CHANNEL2_MAXIMUM = 20_000_000_000

_ATM_GATE = {
    1: ("customer.id", "customer.email", "customer.phone", "customer.ip_address", "bank_id"),
    2: ("customer.email", "customer.ip_address", "bank_id"),
}
_ATM_PAGE = {1: ("customer.id", "customer.email", "customer.phone"), 2: ()}
_REQUIRED: dict[tuple[Method, Flow], tuple[str, ...]] = {
    (Method.NGANLUONG_WALLET, Flow.GATE): (
        "customer.id",
        "customer.email",
        "customer.ip_address",
        "return_urls.success",
        "return_urls.decline",
    ),
    (Method.NGANLUONG_WALLET, Flow.PAYMENT_PAGE): (
        "customer.id",
        "customer.email",
        "customer.phone",
    ),
    (Method.BANK_TRANSFER, Flow.GATE): (
        "customer.id",
        "customer.first_name",
        "customer.last_name",
        "customer.email",
        "customer.ip_address",
    ),
    (Method.BANK_TRANSFER, Flow.PAYMENT_PAGE): (
        "customer.id",
        "customer.first_name",
        "customer.last_name",
        "customer.email",
    ),
}


def required_fields(method: Method, flow: Flow, channel: Channel) -> tuple[str, ...]:
    """The request fields (dotted paths) the method needs on this flow and ATM channel."""
    if method is Method.NAPAS_ATM:
        return (_ATM_GATE if flow is Flow.GATE else _ATM_PAGE)[channel]
    return _REQUIRED.get((method, flow), ())


def _value(request: PlatformPaymentRequest, path: str) -> Any:
    if path.startswith("return_urls."):
        urls = request.return_urls
        found = getattr(urls, path.split(".", 1)[1], None) if urls else None
        return found or request.return_url  # one return_url stands in for both
    value: Any = request
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def check_request(request: PlatformPaymentRequest, channel: Channel) -> None:
    """Raise a 422 (`ValidationFailed`/`LimitError`) for the first rule `request` breaks."""
    method = request.method
    check_amount(method, Operation.SALE, request.amount)
    for path in required_fields(method, request.flow, channel):
        if _value(request, path) in (None, ""):
            raise ValidationFailed(
                f"{path} is required for {method} ({_where(request.flow, method, channel)})",
                field=path,
            )
    if request.card is not None:
        _check_card_allowed(method, request.flow, channel)
    if request.bank_id is not None and method is Method.NGANLUONG_WALLET:
        raise ValidationFailed("bank_id is not used by nganluong_wallet", field="bank_id")
    if method is Method.NAPAS_ATM:
        _check_atm_amount(request.amount, request.bank_id, channel)
    if request.flow is Flow.PAYMENT_PAGE:
        check_page_values(request)


def _where(flow: Flow, method: Method, channel: Channel) -> str:
    page = "Payment Page" if flow is Flow.PAYMENT_PAGE else "Gate"
    return f"{page}, channel {channel}" if method is Method.NAPAS_ATM else page


def _check_card_allowed(method: Method, flow: Flow, channel: Channel) -> None:
    if method is not Method.NAPAS_ATM or channel != 2 or flow is not Flow.GATE:
        raise ValidationFailed(
            "card is only accepted for napas_atm Gate purchases on channel 2", field="card"
        )


def _check_atm_amount(amount: int, bank_id: int | None, channel: Channel) -> None:
    if bank_id == VIETCOMBANK_ID and amount < VIETCOMBANK_MINIMUM:
        raise LimitError(
            f"amount must be at least {VIETCOMBANK_MINIMUM} VND for napas_atm with "
            f"Vietcombank (bank_id {VIETCOMBANK_ID})",
            field="amount",
        )
    if channel == 2 and amount > ATM_CHANNEL2_MAXIMUM:
        raise LimitError(
            f"amount must be at most {ATM_CHANNEL2_MAXIMUM} VND for napas_atm on channel 2",
            field="amount",
        )


def check_payout(request: EcommpayPayoutRequest) -> None:
    """Raise a 422 naming the field for the first payout rule `request` breaks: the amount
    limits, then per method the destination (ATM: a bank, a region and the card; Nganluong:
    the wallet account and nothing else)."""
    method = request.method
    check_amount(method, Operation.PAYOUT, request.amount)
    if method is Method.NAPAS_ATM:
        for name in ("bank_id", "region_id", "card"):
            if getattr(request, name) is None:
                raise ValidationFailed(f"{name} is required for napas_atm payouts", field=name)
        if request.account_number is not None:
            raise ValidationFailed(
                "account_number is not used by napas_atm payouts (the card is)",
                field="account_number",
            )
        return
    if not request.account_number:
        raise ValidationFailed(
            "account_number (the Nganluong wallet account) is required", field="account_number"
        )
    for name in ("bank_id", "region_id", "card"):
        if getattr(request, name) is not None:
            raise ValidationFailed(f"{name} is not used by nganluong_wallet payouts", field=name)
