"""ecommpay-platform wire models (Gate answers, callbacks, status answers) and their one mapping
to our domain. ecommpay and Monetix run the same platform with identical formats; callbacks and
`/v2/payment/status` answers are mapped by the same code (providers.md §2.5-2.8).

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
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paygate.domain import (
    BankTransferInstructions,
    ClarificationAction,
    Failure,
    InstructionTexts,
    PaymentStatus,
    ProviderUpdate,
    RedirectAction,
)
from paygate.money import parse_vnd
from paygate.providers.platform import signing

S = PaymentStatus
# Every payment and operation status of providers.md §2.7 (official plugin/SDK constants).
STATUS_MAP: dict[str, PaymentStatus] = {
    "success": S.SUCCEEDED,
    "decline": S.FAILED,
    "error": S.FAILED,
    "internal error": S.FAILED,
    "external error": S.FAILED,
    "decline renewal": S.FAILED,
    "invoice cancelled": S.FAILED,
    "cancelled": S.CANCELLED,
    "canceled": S.CANCELLED,
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
UNKNOWN_STATUS = "unknown"
DUPLICATE_SERIES = "3613"
PLATFORM = "the payment platform"


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
        return _key(self.payment.type) == "payout"


class GateAnswer(_Wire):
    """The synchronous answer to a Gate request: `success` = accepted for processing (not a
    payment result), `error` = refused (providers.md §2.5)."""

    status: str | None = None
    request_id: str | None = None
    project_id: int | str | None = None
    payment_id: str | None = None
    code: str | None = None
    message: str | None = None
    errors: list[dict[str, Any]] | None = None

    @property
    def accepted(self) -> bool:
        return _key(self.status) == "success"


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


# -- statuses ----------------------------------------------------------------------------------


def _key(status: str | None) -> str:
    return (status or "").strip().lower()


def _deciding_status(payment_status: str | None, operation_status: str | None) -> str:
    """The payment's status, or the operation's when the payment's says nothing we know."""
    for status in (payment_status, operation_status):
        key = _key(status)
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
    if CLARIFICATION_STATUSES & {_key(status) for status in _statuses(callback)}:
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


# -- transfer instructions (Monetix display_data) --------------------------------------------

# Lower-cased titles of both Monetix title sets → our field.
_FIELDS = {
    "bankname": "bank",
    "bank_name": "bank",
    "number": "account_no",
    "account_no": "account_no",
    "fullname": "account_name",
    "account_name": "account_name",
    "branch": "branch",
    "content": "transfer_code",
    "transfer_code": "transfer_code",
    "swiftcode": "swift_code",
    "request_amount": "amount",
    "code": "bank_code",
    "bank_abbr": "bank_abbr",
}
# Titles only Option 1 uses (`bank_name` is in both lists of the docs).
_OPTION_1_TITLES = frozenset({"bankname", "number", "fullname", "branch", "content", "swiftcode"})
_MODEL_FIELDS = frozenset(BankTransferInstructions.model_fields)

# The Monetix docs' instruction texts ("Format of data for displaying the payment
# instruction"), copied exactly, without their numbering.
OPTION_1_TEXTS = InstructionTexts(
    vi=[
        "Vui lòng chuyển khoản đúng thông tin Số tài khoản/Tên chủ tài khoản/Tên ngân hàng cùng "
        "với số tiền chính xác. Nếu bạn không chuyển khoản đúng các thông tin trên, giao dịch có "
        "thể bị chậm trễ hoặc chúng tôi không nhận được chuyển khoản từ bạn.",
        'Vui lòng sử dụng các tính năng "Copy/Paste" có sẵn để sao chép chính xác các thông tin '
        "trên.",
        "Các thông tin chuyển khoản chỉ sử dụng một lần. Vui lòng tạo yêu cầu thanh toán với "
        "thông tin chuyển khoản mới ở lần nạp tiền tiếp theo.",
        "Chúng tôi không chịu trách nhiệm cho bất kỳ sai sót chuyển tiền nào do Tài khoản Người "
        "thụ hưởng không chính xác.",
        "Một lần chuyển khoản được hoàn tất, số dư của bạn sẽ tự động được ghi có.",
        "Vui lòng liên hệ với bộ phận Dịch vụ Khách hàng nếu bạn gặp vấn đề với chuyển khoản / "
        "tiền gửi của mình.",
    ],
    en=[
        "Please ensure you transfer to Beneficiary Account.",
        "IMPORTANT! Please copy Transaction ID and put in the Reference filed in your Bank "
        "application. Ensure Beneficiary Account and Amounts already correct. Please use "
        "available 'Copy/Paste' features.",
        "The transfer information is used only once. Please create a payment request with new "
        "transfer information on your next deposit.",
        "We are not responsible for any transfer errors to incorrect Beneficiary Account.",
        "Once transfer completed, your balance will be automatically credited.",
        "Please contact Customer Service (CS) if you have issues with your transfer/Deposits.",
    ],
)
OPTION_2_TEXTS = InstructionTexts(
    vi=[
        "Hãy đảm bảo rằng bạn chuyển đến Tài khoản người thụ hưởng",
        'Vui lòng sử dụng các tính năng "Copy/Paste" có sẵn để sao chép chính xác các thông tin '
        "trên.",
        "Các thông tin chuyển khoản chỉ sử dụng một lần. Vui lòng tạo yêu cầu thanh toán với "
        "thông tin chuyển khoản mới ở lần nạp tiền tiếp theo.",
        "Chúng tôi không chịu trách nhiệm cho bất kỳ sai sót chuyển tiền nào do Tài khoản Người "
        "thụ hưởng không chính xác.",
        "Một lần chuyển khoản được hoàn tất, số dư của bạn sẽ tự động được ghi có.",
        "Vui lòng liên hệ với bộ phận Dịch vụ Khách hàng nếu bạn gặp vấn đề với chuyển khoản / "
        "tiền gửi của mình.",
    ],
    en=[
        "Please ensure you transfer to Beneficiary Account.",
        "IMPORTANT! Please copy Transfer Code and put it in the Reference filed in your Bank "
        "application. Please ensure Beneficiary Account and Amounts already correct. Please use "
        "available 'Copy/Paste' features.",
        "We are not responsible for any transfer errors to incorrect Beneficiary Account.",
        "Once transfer completed, your balance will be automatically credited.",
        "Please contact Customer Service (CS) if you have issues with your transfer/Deposits.",
    ],
)


def _snake(title: str) -> str:
    """`swiftCode` → `swift_code`, `Số tài khoản` → `s_t_i_kho_n`; never empty."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", title)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_") or "untitled"


def _free(values: dict[str, Any], key: str) -> str:
    """`key`, or `key_2`, `key_3`… when it is taken or one of the model's own fields (an
    extra never overwrites, nor is read as, a field of ours)."""
    candidate, number = key, 1
    while candidate in values or candidate in _MODEL_FIELDS:
        number += 1
        candidate = f"{key}_{number}"
    return candidate


def _put(values: dict[str, Any], title: str, data: Any) -> None:
    field = _FIELDS.get(title.lower())
    value = _field_value(field, data) if field else None
    if field is not None and value is not None:
        if field not in values:
            values[field] = value
            return
        if values[field] == value:
            return  # the same value under both spellings of a title
    values[_free(values, _snake(title))] = data  # unknown, repeated or unreadable: kept as is


def _field_value(field: str, data: Any) -> Any:
    if data is None or isinstance(data, dict | list):
        return None
    text = str(data).strip()
    return parse_vnd(text) if field == "amount" else text


def instructions_from_display_data(items: list[DisplayItem]) -> BankTransferInstructions:
    """Both Monetix title sets in one model: Option 1 (bankName/bank_name, number, fullName,
    branch, content, swiftCode) and Option 2 (transfer_code, account_no, account_name,
    request_amount, code, bank_name, bank_abbr). Nothing is dropped: unknown titles, repeats
    and an unreadable amount are kept under the title's snake_case name. The docs' texts of
    Option 1 come with Option-1 titles, those of Option 2 otherwise."""
    values: dict[str, Any] = {}
    for item in items:
        _put(values, item.title.strip(), item.data)
    titles = {item.title.strip().lower() for item in items}
    values["instructions"] = OPTION_1_TEXTS if titles & _OPTION_1_TITLES else OPTION_2_TEXTS
    return BankTransferInstructions.model_validate(values)


# -- clarification -----------------------------------------------------------------------------


def clarification_paths(fields: Any) -> list[str]:
    """The dotted paths (`card.pan`) the platform asks for, sorted and unique.

    ASSUMPTION: the format of the clarification request is not in our sources (providers.md
    §2.5: endpoint and body format UNKNOWN). Accepted, in this order: a JSON-schema-like object
    (`properties`, nested → the leaf properties; only `required` → those names), a plain nested
    object (its leaves), a list of names, a single name. Anything else → `[]`."""
    if isinstance(fields, dict):
        found = _schema_paths(fields) if _is_schema(fields) else _leaves(fields, "")
    elif isinstance(fields, list):
        found = [name.strip() for name in fields if isinstance(name, str)]
    elif isinstance(fields, str):
        found = [fields.strip()]
    else:
        found = []
    return sorted({path for path in found if path})


def _is_schema(value: dict[str, Any]) -> bool:
    return isinstance(value.get("properties"), dict) or (
        value.get("type") == "object" and isinstance(value.get("required"), list)
    )


def _schema_paths(schema: dict[str, Any]) -> list[str]:
    found = _schema_leaves(schema, "")
    if not found:  # no properties: the required names are all it says
        found = [name for name in schema.get("required") or [] if isinstance(name, str)]
    return found


def _schema_leaves(schema: dict[str, Any], prefix: str) -> list[str]:
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return [prefix] if prefix else []
    found: list[str] = []
    for name, child in properties.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        found += _schema_leaves(child, path) if isinstance(child, dict) else [path]
    return found


def _leaves(value: dict[str, Any], prefix: str) -> list[str]:
    found: list[str] = []
    for name, child in value.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        found += _leaves(child, path) if isinstance(child, dict) and child else [path]
    return found


def dedupe_key(document: dict[str, Any]) -> str:
    """Same callback (whatever its signature) = same key; any changed field = a new one."""
    return hashlib.sha256(signing.string_to_sign(document).encode("utf-8")).hexdigest()[:40]
