"""The one mapping of ecommpay-platform callbacks to our domain. ecommpay and Monetix run the
same platform with identical formats (`paygate.providers.platform.wire`); callbacks and
`/v2/payment/status` answers are mapped by the same code.

Rules of `update_from_callback`, in order:

1. The deciding status is the payment's; the operation's stands in when the payment's is
   missing, not in `STATUS_MAP` or the literal `unknown`. Unknown → `pending`, never an error.
2. Terminal (`succeeded`, `failed`, `cancelled`, `expired`, `needs_review`): a success reports
   `payment.sum` (never `operation.sum_converted`); the others carry a `Failure`.
3. `awaiting clarification` / `awaiting clarify data` (payment or operation) → `requires_action`
   + `ClarificationAction`, even when the fields cannot be read.
4. `redirect_data` with a url → `requires_action` + `RedirectAction`; else non-empty
   `display_data` → `requires_action` + `BankTransferInstructions`.
5. An awaiting status with nothing to show → `pending`: a `requires_action` without an action
   is useless and would block the later callback that carries it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from paygate.domain import (
    BankTransferInstructions,
    ClarificationAction,
    Failure,
    PaymentStatus,
    ProviderUpdate,
    RedirectAction,
)
from paygate.providers.platform import signing
from paygate.providers.platform.clarification import clarification_paths
from paygate.providers.platform.instructions import instructions_from_display_data
from paygate.providers.platform.wire import (
    UNKNOWN_STATUS,
    Callback,
    RedirectData,
    status_key,
)

S = PaymentStatus
# Every payment and operation status of the platform (its official plugin/SDK constants).
# Ended without money: abandoned (`expired`) or declined (`failed`), docs/lifecycle.md.
# - `expired` (the Payment Page's `best_before` passed, the platform's own status name) and
#   `cancelled`/`canceled`/`invoice cancelled`: the gateway never cancels at the platform, so
#   these are the customer leaving the page or invoice unpaid: abandoned.
# - `decline`, `decline renewal`, `error`, `internal error`, `external error`: the platform or
#   the bank refused (the plugin's own final-state handling reads them as failed): declined.
# - A `decline` with the general code `20000` (or none) of a payment still waiting for a
#   clarification is the clarification's 30-minute timeout: abandoned, decided with the
#   payment (`paygate.transition.GENERIC_PLATFORM_DECLINES`, an ASSUMPTION).
# - Statuses not in this map are `pending` (never an ending); the safe side for an
#   undocumented ending would be `failed`, the platform's own word.
STATUS_MAP: dict[str, PaymentStatus] = {
    "success": S.SUCCEEDED,
    "decline": S.FAILED,
    "error": S.FAILED,
    "internal error": S.FAILED,
    "external error": S.FAILED,
    "decline renewal": S.FAILED,
    "invoice cancelled": S.EXPIRED,
    "cancelled": S.EXPIRED,
    "canceled": S.EXPIRED,
    "expired": S.EXPIRED,
    # Money moved, but not as asked: a merchant must look.
    "refunded": S.NEEDS_REVIEW,
    "reversed": S.NEEDS_REVIEW,
    "partially refunded": S.NEEDS_REVIEW,
    "partially reversed": S.NEEDS_REVIEW,
    "partially paid": S.NEEDS_REVIEW,
    "partially paid out": S.NEEDS_REVIEW,
    # Clarification: requires_action even without readable fields (rule 3).
    "awaiting clarification": S.REQUIRES_ACTION,
    "awaiting clarify data": S.REQUIRES_ACTION,
    # The customer must act: requires_action only with something to show (rule 5).
    "awaiting redirect result": S.REQUIRES_ACTION,
    "awaiting 3ds result": S.REQUIRES_ACTION,
    "awaiting customer action": S.REQUIRES_ACTION,
    "awaiting customer": S.REQUIRES_ACTION,
    "awaiting payment": S.REQUIRES_ACTION,
    "invoice sent": S.REQUIRES_ACTION,
    # After the customer acted: the money is on its way.
    "awaiting clearing": S.PROCESSING,
    "awaiting partially clearing": S.PROCESSING,
    "clearing processing": S.PROCESSING,
    "awaiting capture": S.PROCESSING,
    "awaiting finalization": S.PROCESSING,
    # Accepted, nothing for anyone to do yet. `processing` stays pending (not our
    # `processing`): the platform reports it while it waits for the customer too, and a later
    # redirect callback must still be able to move the payment.
    "processing": S.PENDING,
    "external processing": S.PENDING,
    "awaiting approval": S.PENDING,
    "awaiting merchant auth": S.PENDING,
    "awaiting confirmation": S.PENDING,
    "scheduled recurring processing": S.PENDING,
    "awaiting retry": S.PENDING,
    "unknown": S.PENDING,
}
# Pending-class statuses in which the platform itself is acting (not waiting for the
# customer): money may be moving, so such a payment never expires by time.
WORKING_STATUSES = frozenset(
    {
        "processing",
        "external processing",
        "awaiting approval",
        "awaiting merchant auth",
        "awaiting confirmation",
        "scheduled recurring processing",
        "awaiting retry",
        "awaiting finalization",
    }
)
CLARIFICATION_STATUSES = frozenset({"awaiting clarification", "awaiting clarify data"})
DUPLICATE_SERIES = "3613"
PLATFORM = "the payment platform"


# -- statuses ----------------------------------------------------------------------------------


def _deciding_status(payment_status: str | None, operation_status: str | None) -> str:
    """The payment's status, or the operation's when the payment's says nothing we know."""
    for status in (payment_status, operation_status):
        key = status_key(status)
        if key in STATUS_MAP and key != UNKNOWN_STATUS:
            return key
    return UNKNOWN_STATUS


def map_status(payment_status: str | None, operation_status: str | None) -> PaymentStatus:
    """Our status class for the platform's statuses (rule 1); unknown or empty → `pending`."""
    return STATUS_MAP[_deciding_status(payment_status, operation_status)]


def _statuses(callback: Callback) -> tuple[str | None, str | None]:
    operation = callback.operation
    return callback.payment.status, operation.status if operation else None


# -- the mapping -------------------------------------------------------------------------------

Action = RedirectAction | BankTransferInstructions | ClarificationAction


def update_from_callback(callback: Callback) -> ProviderUpdate:
    """Map a callback (or a status answer read as one) to our update (rules in the module
    docstring)."""
    deciding = _deciding_status(*_statuses(callback))
    status = STATUS_MAP[deciding]
    reference = callback.operation.request_id if callback.operation else None
    if status.is_terminal:
        return _final(callback, status, deciding, reference)
    action = _next_action(callback)
    if action is not None:
        status = PaymentStatus.REQUIRES_ACTION
    elif status is PaymentStatus.REQUIRES_ACTION:
        status = PaymentStatus.PENDING  # nothing to show yet: wait for the callback that says
    working = action is None and deciding in WORKING_STATUSES
    return ProviderUpdate(
        status=status, provider_reference=reference, next_action=action, provider_working=working
    )


def _next_action(callback: Callback) -> Action | None:
    if CLARIFICATION_STATUSES & {status_key(status) for status in _statuses(callback)}:
        return _clarification(callback)
    if callback.redirect_data is not None:
        return _redirect(callback.redirect_data)
    if callback.display_data:
        return instructions_from_display_data(callback.display_data)
    return None


def _clarification(callback: Callback) -> ClarificationAction:
    fields = clarification_paths(callback.clarification_fields)
    message = (callback.operation.message if callback.operation else None) or None
    if not fields:
        asked = f"{PLATFORM} asked for more data without naming fields we can read"
        message = f"{asked} ({message})" if message else asked
    return ClarificationAction(fields=fields, message=message)


def _redirect(data: RedirectData) -> RedirectAction:
    params = (
        {str(key): "" if value is None else str(value) for key, value in data.body.items()}
        if isinstance(data.body, dict)
        else {}
    )
    method = "POST" if data.method.strip().upper() == "POST" else "GET"
    return RedirectAction(url=data.url, method=method, params=params)


def _final(
    callback: Callback, status: PaymentStatus, deciding: str, reference: str | None
) -> ProviderUpdate:
    if status is PaymentStatus.SUCCEEDED:
        paid = callback.payment.sum  # not operation.sum_converted (wrong in a doc example)
        return ProviderUpdate(
            status=status,
            provider_reference=reference,
            amount_received=paid.amount if paid else None,
            currency=paid.currency if paid else None,
        )
    failure = _failure(callback, status, deciding)
    return ProviderUpdate(status=status, provider_reference=reference, failure=failure)


def _failure(callback: Callback, status: PaymentStatus, deciding: str) -> Failure:
    code, message = _provider_reason(callback)
    detail = message or "no code given"
    if code:
        detail = f"code {code}: {message}" if message else f"code {code}"
    if status is PaymentStatus.FAILED:
        ours, text = "provider_declined", f"{PLATFORM} declined the payment ({detail})"
        if code == DUPLICATE_SERIES:
            text = (
                "declined as a duplicate: the same customer and amount joined a series that "
                f"another payment completed (code {DUPLICATE_SERIES})"
            )
    elif status is PaymentStatus.NEEDS_REVIEW:
        ours = "provider_reported_" + deciding.replace(" ", "_")
        text = (
            f"{PLATFORM} reported the payment {deciding}: money moved, but not as asked; "
            f"a merchant must look ({detail})"
        )
    else:
        ours, text = status.value, f"{PLATFORM} reported the payment {status.value} ({detail})"
    return Failure(code=ours, message=text, provider_code=code, provider_message=message)


def _provider_reason(callback: Callback) -> tuple[str | None, str | None]:
    """`operation.code`/`message`, else the first error (the callback's `errors`, or the
    operation's: the ATM docs' decline example nests them there)."""
    operation = callback.operation
    first_error = _first_error(callback)
    code = (operation.code if operation else None) or _text(first_error.get("code"))
    message = (operation.message if operation else None) or _text(first_error.get("message"))
    return code, message


def _first_error(callback: Callback) -> dict[str, Any]:
    nested = (callback.operation.model_extra or {}).get("errors") if callback.operation else None
    for errors in (callback.errors, nested):
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
    return {}


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def dedupe_key(document: dict[str, Any], signed: str | None = None) -> str:
    """Same callback (whatever its signature) = same key; any changed field = a new one.
    `signed`: the document's `string_to_sign`, when the signature check already made it."""
    text = signing.string_to_sign(document) if signed is None else signed
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]
