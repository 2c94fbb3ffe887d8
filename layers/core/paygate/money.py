"""Money: integer VND in major units, and the per-method limits validated before provider calls."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from paygate.domain import Method, Operation
from paygate.errors import LimitError

MAX_VND = 10**15  # far above any real amount; bigger reported ones are read as unreadable
# The gateway-wide upper bound of every request amount (setting `MAX_AMOUNT_VND`): the largest
# documented per-method maximum (ATM purchases on channel 2).
DEFAULT_MAX_AMOUNT_VND = 20_000_000_000


def max_amount_vnd() -> int:
    """`MAX_AMOUNT_VND` from the environment (default 20,000,000,000; at most `MAX_VND`)."""
    text = os.environ.get("MAX_AMOUNT_VND", "")
    try:
        value = int(text) if text else DEFAULT_MAX_AMOUNT_VND
    except ValueError:
        value = DEFAULT_MAX_AMOUNT_VND
    return min(max(value, 1), MAX_VND)


@dataclass(frozen=True)
class AmountLimit:
    """Inclusive bounds in VND; `None` means unbounded on that side."""

    minimum: int | None = None
    maximum: int | None = None


# From the provider docs (each method's limits section); bank- and channel-specific ATM rules
# are in paygate.providers.platform.rules.
LIMITS: dict[tuple[Method, Operation], AmountLimit] = {
    (Method.VIETQR, Operation.SALE): AmountLimit(minimum=50_000),
    (Method.BANK_TRANSFER, Operation.PAYOUT): AmountLimit(minimum=50_000),  # Paypro's payout
    (Method.NAPAS_ATM, Operation.SALE): AmountLimit(minimum=2_000),
    (Method.NAPAS_ATM, Operation.PAYOUT): AmountLimit(minimum=100_000, maximum=100_000_000),
}


def check_amount(method: Method, operation: Operation, amount: int) -> None:
    """Raise `LimitError` naming the limit when `amount` is outside the method's bounds or the
    gateway-wide `MAX_AMOUNT_VND`."""
    ceiling = max_amount_vnd()
    if amount > ceiling:
        raise LimitError(
            f"amount must be at most {ceiling} VND (the gateway's MAX_AMOUNT_VND)", field="amount"
        )
    limit = LIMITS.get((method, operation), AmountLimit(minimum=1))
    if limit.minimum is not None and amount < limit.minimum:
        raise LimitError(
            f"amount must be at least {limit.minimum} VND for {method} {operation}s",
            field="amount",
        )
    if limit.maximum is not None and amount > limit.maximum:
        raise LimitError(
            f"amount must be at most {limit.maximum} VND for {method} {operation}s",
            field="amount",
        )


def parse_vnd(text: str | int) -> int | None:
    """Parse a provider's VND amount ("50000", "50000.00", 50000) to int; None if it is not a
    whole number of VND (or beyond `MAX_VND`)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value() or abs(value) > MAX_VND:
        return None
    return int(value)
