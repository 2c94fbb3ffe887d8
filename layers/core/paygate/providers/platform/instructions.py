"""Monetix transfer instructions: `display_data` → `BankTransferInstructions` (the Monetix
docs' "Format of data for displaying the payment instruction", both title sets)."""

from __future__ import annotations

import re
from typing import Any

from paygate.domain import BankTransferInstructions, InstructionTexts
from paygate.money import parse_vnd
from paygate.providers.platform.wire import DisplayItem

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
# instruction"), copied exactly, without their numbering; both options end alike.
_VI_SHARED = [
    'Vui lòng sử dụng các tính năng "Copy/Paste" có sẵn để sao chép chính xác các thông tin trên.',
    "Các thông tin chuyển khoản chỉ sử dụng một lần. Vui lòng tạo yêu cầu thanh toán với "
    "thông tin chuyển khoản mới ở lần nạp tiền tiếp theo.",
    "Chúng tôi không chịu trách nhiệm cho bất kỳ sai sót chuyển tiền nào do Tài khoản Người "
    "thụ hưởng không chính xác.",
    "Một lần chuyển khoản được hoàn tất, số dư của bạn sẽ tự động được ghi có.",
    "Vui lòng liên hệ với bộ phận Dịch vụ Khách hàng nếu bạn gặp vấn đề với chuyển khoản / "
    "tiền gửi của mình.",
]
_EN_FIRST = "Please ensure you transfer to Beneficiary Account."
_EN_LAST = [
    "We are not responsible for any transfer errors to incorrect Beneficiary Account.",
    "Once transfer completed, your balance will be automatically credited.",
    "Please contact Customer Service (CS) if you have issues with your transfer/Deposits.",
]
OPTION_1_TEXTS = InstructionTexts(
    vi=[
        "Vui lòng chuyển khoản đúng thông tin Số tài khoản/Tên chủ tài khoản/Tên ngân hàng cùng "
        "với số tiền chính xác. Nếu bạn không chuyển khoản đúng các thông tin trên, giao dịch có "
        "thể bị chậm trễ hoặc chúng tôi không nhận được chuyển khoản từ bạn.",
        *_VI_SHARED,
    ],
    en=[
        _EN_FIRST,
        "IMPORTANT! Please copy Transaction ID and put in the Reference filed in your Bank "
        "application. Ensure Beneficiary Account and Amounts already correct. Please use "
        "available 'Copy/Paste' features.",
        "The transfer information is used only once. Please create a payment request with new "
        "transfer information on your next deposit.",
        *_EN_LAST,
    ],
)
OPTION_2_TEXTS = InstructionTexts(
    vi=["Hãy đảm bảo rằng bạn chuyển đến Tài khoản người thụ hưởng", *_VI_SHARED],
    en=[
        _EN_FIRST,
        "IMPORTANT! Please copy Transfer Code and put it in the Reference filed in your Bank "
        "application. Please ensure Beneficiary Account and Amounts already correct. Please use "
        "available 'Copy/Paste' features.",
        *_EN_LAST,
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
