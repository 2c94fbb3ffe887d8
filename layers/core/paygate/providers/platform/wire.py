"""ecommpay-platform wire models: Gate answers, callbacks and `/v2/payment/status` answers
(ecommpay and Monetix run the same platform with identical formats; the ecommpay Gate
documentation's "Callbacks" and the Vietnamese ATM, Nganluong Wallet and Monetix bank-transfer
pages' callback examples). Unknown fields are kept; PHP's empty `[]` means "nothing"."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paygate.money import parse_vnd

# A status the platform reports when it does not know (and the placeholder payment id of a
# status answer without a payment object).
UNKNOWN_STATUS = "unknown"


def status_key(status: str | None) -> str:
    """A platform status as compared: trimmed, lower case."""
    return (status or "").strip().lower()


class _Wire(BaseModel):
    """Platform objects: unknown fields are kept; numbers are accepted where text is expected
    (callbacks are read with numbers as text, for the signature)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Sum(_Wire):
    amount: int | None = None
    currency: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> int | None:
        if value is None or value == "":
            return None
        amount = parse_vnd(value)
        if amount is None:  # a reported amount we cannot read is refused, never ignored
            raise ValueError("amount must be a whole number of VND")
        return amount


class CallbackPayment(_Wire):
    id: str = Field(min_length=1)
    type: str | None = None
    status: str | None = None
    date: str | None = None
    method: str | None = None
    sum: Sum | None = None
    description: str | None = None


class CallbackOperation(_Wire):
    id: int | str | None = None
    type: str | None = None
    status: str | None = None
    date: str | None = None
    created_date: str | None = None
    request_id: str | None = None
    sum_initial: Sum | None = None
    sum_converted: Sum | None = None
    code: str | None = None
    message: str | None = None
    provider: dict[str, Any] | None = None


class RedirectData(_Wire):
    url: str = Field(min_length=1)
    method: str = "GET"
    body: dict[str, Any] | list[Any] | None = None
    encrypted: Any = None


class DisplayItem(_Wire):
    type: str | None = None
    title: str
    data: Any = None


def _absent(value: Any) -> bool:
    """PHP sends an empty array (`[]`) or object for "nothing"."""
    return value is None or value == "" or value == [] or value == {}


class _Actionable(_Wire):
    errors: list[dict[str, Any]] | None = None
    redirect_data: RedirectData | None = None
    display_data: list[DisplayItem] | None = None
    clarification_fields: Any = None

    @field_validator("errors", "display_data", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if _absent(value) else value

    @field_validator("redirect_data", mode="before")
    @classmethod
    def _nowhere(cls, value: Any) -> Any:
        """Redirect data without a url says nothing to act on (the raw callback is stored)."""
        if _absent(value) or (isinstance(value, dict) and _absent(value.get("url"))):
            return None
        return value


class Callback(_Actionable):
    """A platform callback (root `signature`; `payment.id` is our payment id)."""

    project_id: int | str | None = None
    payment: CallbackPayment
    operation: CallbackOperation | None = None
    account: dict[str, Any] | None = None
    customer: dict[str, Any] | None = None
    signature: str | None = None

    @property
    def is_payout(self) -> bool:
        return status_key(self.payment.type) == "payout"


class GateAnswer(_Wire):
    """The synchronous answer to a Gate request: `success` = accepted for processing (not a
    payment result), `error` = refused (the Gate documentation's request processing)."""

    status: str | None = None
    request_id: str | None = None
    project_id: int | str | None = None
    payment_id: str | None = None
    code: str | None = None
    message: str | None = None
    errors: list[dict[str, Any]] | None = None

    @property
    def accepted(self) -> bool:
        return status_key(self.status) == "success"


class StatusAnswer(_Actionable):
    """The answer of `POST /v2/payment/status` (the last operation is the current one)."""

    payment: CallbackPayment | None = None
    operations: list[CallbackOperation] = Field(default_factory=list)

    @field_validator("operations", mode="before")
    @classmethod
    def _no_operations(cls, value: Any) -> Any:
        return [] if _absent(value) else value

    def as_callback(self) -> Callback:
        """The answer read as a callback, so the same mapping applies (a missing payment
        object gets the placeholder id `unknown`: the caller knows which payment it asked)."""
        return Callback(
            project_id=(self.model_extra or {}).get("project_id"),
            payment=self.payment or CallbackPayment(id=UNKNOWN_STATUS),
            operation=self.operations[-1] if self.operations else None,
            errors=self.errors,
            redirect_data=self.redirect_data,
            display_data=self.display_data,
            clarification_fields=self.clarification_fields,
        )
