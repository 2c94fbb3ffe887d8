"""ecommpay-platform wire models: Gate answers, callbacks and `/v2/payment/status` answers
(ecommpay and Monetix run the same platform with identical formats; the ecommpay Gate
documentation's "Callbacks" and the Vietnamese ATM, Nganluong Wallet and Monetix bank-transfer
pages' callback examples). PHP's empty `[]` means "nothing".

A callback is strict where it can move money: its top-level keys are the documented ones and
nothing else, and every field we read has its documented format (digits for amounts, ids and
codes, ISO dates, statuses of words; `payment.id` in our own id format is checked by the
webhook contract, so that the docs' examples, with the docs' ids, still parse here). Inside
the documented objects the platform may add fields; they are kept and never read."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

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


# The formats of the fields we read (the callback examples of the three method pages).
Status = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9 ]{0,39}$")]
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
Code = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,10}$")]
_AMOUNT = re.compile(r"^[0-9]{1,20}(\.0+)?$")  # digits; the zero cents some answers carry
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Text = Annotated[str, StringConstraints(max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")]


def _iso_date(value: Any) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date-time") from exc
    if parsed.tzinfo is None:
        raise ValueError("must be an ISO 8601 date-time with a zone")
    return value


def parse_date(value: str | None) -> datetime | None:
    """A date the model accepted, as a datetime (None when absent)."""
    return datetime.fromisoformat(value) if value else None


class Sum(_Wire):
    amount: int | None = None
    currency: Currency | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> int | None:
        if value is None or value == "":
            return None
        written = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        amount = parse_vnd(written) if isinstance(written, str) and _AMOUNT.match(written) else None
        if amount is None:  # a reported amount we cannot read is refused, never ignored
            raise ValueError("amount must be a whole number of VND, in digits")
        return amount


class CallbackPayment(_Wire):
    id: str = Field(min_length=1)
    type: Status | None = None
    status: Status | None = None
    date: str | None = None
    method: Text | None = None
    sum: Sum | None = None
    description: Text | None = None

    _date = field_validator("date", mode="before")(_iso_date)


class CallbackOperation(_Wire):
    id: Digits | None = None
    type: Status | None = None
    status: Status | None = None
    date: str | None = None
    created_date: str | None = None
    request_id: Token | None = None
    sum_initial: Sum | None = None
    sum_converted: Sum | None = None
    code: Code | None = None
    message: Text | None = None
    provider: dict[str, Any] | None = None

    _dates = field_validator("date", "created_date", mode="before")(_iso_date)


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
    """A platform callback (root `signature`; `payment.id` is our payment id). Read as a
    callback, a status answer (`StatusAnswer.as_callback`) is built, not validated: this
    class's strictness is for documents a sender chose."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    project_id: Digits | None = None
    payment: CallbackPayment
    operation: CallbackOperation | None = None
    account: dict[str, Any] | None = None
    customer: dict[str, Any] | None = None
    signature: str | None = None

    @property
    def is_payout(self) -> bool:
        return status_key(self.payment.type) == "payout"

    @property
    def signed_at(self) -> datetime | None:
        """When the platform dated the operation (else the payment): signed with the rest."""
        operation = self.operation
        return parse_date((operation.date if operation else None) or self.payment.date)


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
        project = (self.model_extra or {}).get("project_id")
        return Callback.model_construct(
            project_id=None if project is None else str(project),
            payment=self.payment or CallbackPayment(id=UNKNOWN_STATUS),
            operation=self.operations[-1] if self.operations else None,
            errors=self.errors,
            redirect_data=self.redirect_data,
            display_data=self.display_data,
            clarification_fields=self.clarification_fields,
        )
