"""ecommpay-platform wire models (Gate answers, callbacks, status answers) and their mapping
to our domain: statuses, next actions (redirect, transfer instructions, clarification) and
failures. Callbacks and status answers are mapped by the same code (providers.md §2.6-2.8)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paygate.models import (
    BankTransferInstructions,
    ClarificationAction,
    Failure,
    InstructionTexts,
    ProviderUpdate,
    RedirectAction,
)
from paygate.money import parse_vnd
from paygate.providers.platform import signing
from paygate.status import PaymentStatus

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
    # Money moved, but not as asked: a person must look.
    "refunded": S.NEEDS_REVIEW,
    "reversed": S.NEEDS_REVIEW,
    "partially refunded": S.NEEDS_REVIEW,
    "partially reversed": S.NEEDS_REVIEW,
    "partially paid": S.NEEDS_REVIEW,
    "partially paid out": S.NEEDS_REVIEW,
    # The customer (or we) must act: requires_action when the callback says how.
    "awaiting clarification": S.REQUIRES_ACTION,
    "awaiting clarify data": S.REQUIRES_ACTION,
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
    # `processing`) because the platform reports it while it waits for the customer too, and
    # a later redirect callback must still be able to move the payment.
    "processing": S.PENDING,
    "external processing": S.PENDING,
    "awaiting approval": S.PENDING,
    "awaiting merchant auth": S.PENDING,
    "awaiting confirmation": S.PENDING,
    "scheduled recurring processing": S.PENDING,
    "awaiting retry": S.PENDING,
    "unknown": S.PENDING,
}
CLARIFICATION_STATUSES = frozenset({"awaiting clarification", "awaiting clarify data"})
DUPLICATE_SERIES = "3613"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Sum(_Wire):
    amount: int | None = None
    currency: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> int | None:
        return None if value is None or value == "" else parse_vnd(value)


class CallbackPayment(_Wire):
    id: str = Field(min_length=1)
    type: str | None = None
    status: str | None = None
    date: str | None = None
    method: str | None = None
    sum: Sum | None = None
    description: str | None = None


class CallbackOperation(_Wire):
    id: str | None = None
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


class _Actionable(_Wire):
    errors: list[dict[str, Any]] | None = None
    redirect_data: RedirectData | None = None
    display_data: list[DisplayItem] | None = None
    clarification_fields: Any = None


class Callback(_Actionable):
    """A platform callback (root `signature`; `payment.id` is our payment id)."""

    project_id: str | None = None
    payment: CallbackPayment
    operation: CallbackOperation | None = None
    account: dict[str, Any] | None = None
    customer: dict[str, Any] | None = None
    signature: str | None = None

    @property
    def is_payout(self) -> bool:
        return self.payment.type == "payout"


class GateAnswer(_Wire):
    """The synchronous answer to a Gate request: accepted for processing, or refused."""

    status: str | None = None
    request_id: str | None = None
    project_id: str | None = None
    payment_id: str | None = None
    code: str | None = None
    message: str | None = None
    errors: list[dict[str, Any]] | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "success"


class StatusAnswer(_Actionable):
    """The answer of `POST /v2/payment/status` (the last operation is the current one)."""

    payment: CallbackPayment | None = None
    operations: list[CallbackOperation] = Field(default_factory=list)

    def as_callback(self) -> Callback:
        return Callback(
            payment=self.payment or CallbackPayment(id="unknown"),
            operation=self.operations[-1] if self.operations else None,
            errors=self.errors,
            redirect_data=self.redirect_data,
            display_data=self.display_data,
            clarification_fields=self.clarification_fields,
        )


def _key(status: str | None) -> str:
    return (status or "").strip().lower()


def map_status(payment_status: str | None, operation_status: str | None) -> PaymentStatus:
    """The payment's status wins; the operation's stands in when the payment's is missing or
    unknown. Anything unknown is `pending`, never an error."""
    for status in (payment_status, operation_status):
        if _key(status) in STATUS_MAP:
            return STATUS_MAP[_key(status)]
    return PaymentStatus.PENDING


def _raw_status(callback: Callback) -> str:
    operation = callback.operation
    for status in (callback.payment.status, operation.status if operation else None):
        if _key(status) in STATUS_MAP:
            return _key(status)
    return ""


def update_from_callback(callback: Callback) -> ProviderUpdate:
    """Map a callback (or a status answer read as one) to our update."""
    status = map_status(
        callback.payment.status, callback.operation.status if callback.operation else None
    )
    reference = callback.operation.request_id if callback.operation else None
    if status.is_terminal:
        return _final(callback, status, reference)
    action = _next_action(callback)
    if status is PaymentStatus.REQUIRES_ACTION and action is None:
        status = PaymentStatus.PENDING  # nothing to show yet: wait for the callback that says
    if action is not None and status.rank <= PaymentStatus.REQUIRES_ACTION.rank:
        status = PaymentStatus.REQUIRES_ACTION
    else:
        action = None
    return ProviderUpdate(status=status, provider_reference=reference, next_action=action)


def _next_action(
    callback: Callback,
) -> RedirectAction | BankTransferInstructions | ClarificationAction | None:
    operation_status = callback.operation.status if callback.operation else None
    statuses = {_key(callback.payment.status), _key(operation_status)}
    if statuses & CLARIFICATION_STATUSES:
        message = callback.operation.message if callback.operation else None
        return ClarificationAction(
            fields=clarification_paths(callback.clarification_fields),
            message=message or "the provider needs more data to continue the payment",
        )
    if callback.redirect_data is not None:
        return _redirect(callback.redirect_data)
    if callback.display_data:
        return instructions_from_display_data(callback.display_data)
    return None


def _redirect(data: RedirectData) -> RedirectAction:
    method = data.method.upper()
    params = (
        {str(key): "" if value is None else str(value) for key, value in data.body.items()}
        if isinstance(data.body, dict)
        else {}
    )
    return RedirectAction(url=data.url, method="POST" if method == "POST" else "GET", params=params)


def _final(callback: Callback, status: PaymentStatus, reference: str | None) -> ProviderUpdate:
    if status is PaymentStatus.SUCCEEDED:
        paid = callback.payment.sum
        return ProviderUpdate(
            status=status,
            provider_reference=reference,
            amount_received=paid.amount if paid else None,
            currency=paid.currency if paid else None,
        )
    return ProviderUpdate(
        status=status, provider_reference=reference, failure=_failure(callback, status)
    )


def _failure(callback: Callback, status: PaymentStatus) -> Failure:
    operation = callback.operation
    first_error = (callback.errors or [{}])[0]
    code = (operation.code if operation else None) or _text(first_error.get("code"))
    message = (operation.message if operation else None) or _text(first_error.get("message"))
    detail = f"code {code}{': ' + message if message else ''}" if code else (message or "no code")
    if status is PaymentStatus.FAILED:
        ours = "provider_declined"
        text = f"the payment platform declined the payment ({detail})"
        if code == DUPLICATE_SERIES:
            text = (
                "declined as a duplicate: the same customer and amount joined a series that "
                f"another payment completed (code {DUPLICATE_SERIES})"
            )
    elif status is PaymentStatus.NEEDS_REVIEW:
        ours = "provider_reported_" + _raw_status(callback).replace(" ", "_")
        text = f"the payment platform reported '{_raw_status(callback)}' ({detail})"
    else:
        ours = status.value
        text = f"the payment platform reported the payment {status.value} ({detail})"
    return Failure(code=ours, message=text, provider_code=code, provider_message=message)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# -- transfer instructions (Monetix display_data) --------------------------------------------

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
_OPTION_1_TITLES = frozenset({"bankname", "number", "fullname", "branch", "content", "swiftcode"})
# The Monetix docs' instruction texts ("Format of data for displaying the payment instruction").
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
        *OPTION_1_TEXTS.vi[1:],
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
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<!^)(?=[A-Z])", "_", title).lower()).strip("_")


def instructions_from_display_data(items: list[DisplayItem]) -> BankTransferInstructions:
    """Both Monetix title sets (Option 1: bankName, number, fullName, branch, content,
    swiftCode; Option 2: transfer_code, account_no, account_name, request_amount, code,
    bank_name, bank_abbr) in one model; unknown titles are kept under a snake_case name."""
    values: dict[str, Any] = {}
    titles = set()
    for item in items:
        title = item.title.strip()
        titles.add(title.lower())
        text = "" if item.data is None else str(item.data)
        field = _FIELDS.get(title.lower()) or _snake(title) or "untitled"
        values[field] = parse_vnd(text) if field == "amount" else text
    option_1 = bool(titles & _OPTION_1_TITLES)
    values["instructions"] = OPTION_1_TEXTS if option_1 else OPTION_2_TEXTS
    return BankTransferInstructions.model_validate(values)


def clarification_paths(fields: Any) -> list[str]:
    """The dotted paths the platform asks for. ASSUMPTION: the callback's format is not in our
    sources (providers.md §2.5); accepted, in order: a JSON-schema-like object (leaf
    `properties`), a plain nested object (its leaves), a list of names, a single name."""
    if isinstance(fields, dict):
        found = _schema_leaves(fields, "") if "properties" in fields else _leaves(fields, "")
    elif isinstance(fields, list):
        found = [str(name).strip() for name in fields if isinstance(name, str) and name.strip()]
    elif isinstance(fields, str) and fields.strip():
        found = [fields.strip()]
    else:
        found = []
    return sorted(set(found))


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
    return hashlib.sha256(signing.string_to_sign(document).encode()).hexdigest()[:40]
