"""ecommpay-platform mapping (pure): every documented status, every docs callback example of
events/platform-callbacks.json, next actions (redirect, both Monetix instruction title sets,
clarification), failures and dedupe keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from paygate.domain import (
    BankTransferInstructions,
    ClarificationAction,
    PaymentStatus,
    RedirectAction,
)
from paygate.providers.platform.clarification import clarification_paths
from paygate.providers.platform.instructions import (
    OPTION_1_TEXTS,
    OPTION_2_TEXTS,
    instructions_from_display_data,
)
from paygate.providers.platform.transformers import (
    STATUS_MAP,
    dedupe_key,
    map_status,
    update_from_callback,
)
from paygate.providers.platform.wire import (
    Callback,
    CallbackOperation,
    DisplayItem,
    GateAnswer,
    StatusAnswer,
    Sum,
)

S = PaymentStatus
EVENTS = Path(__file__).resolve().parents[2] / "events"
MANIFEST: list[dict[str, Any]] = json.loads(
    (EVENTS / "platform-callbacks.json").read_text(encoding="utf-8")
)

# Payment statuses, as the official WooCommerce plugin lists them
# (`ITECOMMPAY/woocommerce-ecommpay`, `EcpGatewayPaymentStatus.php`).
PAYMENT_STATUSES = [
    "processing", "awaiting approval", "awaiting clarify data", "awaiting 3ds result",
    "awaiting merchant auth", "awaiting redirect result", "awaiting customer action",
    "awaiting clarification", "awaiting capture", "external processing",
    "scheduled recurring processing", "success", "partially paid", "partially paid out",
    "decline", "error", "cancelled", "canceled", "reversed", "partially refunded",
    "partially reversed", "refunded", "awaiting customer", "internal error", "external error",
    "invoice sent", "invoice cancelled", "awaiting payment", "expired", "awaiting retry",
    "awaiting clearing", "awaiting partially clearing", "clearing processing",
    "awaiting confirmation", "decline renewal",
]  # fmt: skip
# Operation statuses, as the same plugin lists them (`EcpGatewayOperationStatus.php`).
OPERATION_STATUSES = [
    "processing", "awaiting approval", "awaiting 3ds result", "awaiting redirect result",
    "awaiting customer", "awaiting customer action", "awaiting clarification",
    "external processing", "external error", "decline", "success", "internal error", "unknown",
    "awaiting merchant auth", "invoice sent", "invoice cancelled", "expired", "awaiting payment",
    "awaiting finalization", "awaiting confirmation",
]  # fmt: skip
EXPECTED_CLASS = {
    S.SUCCEEDED: ["success"],
    # Ended without money: declined (the platform or bank refused) ...
    S.FAILED: ["decline", "error", "internal error", "external error", "decline renewal"],
    # ... or abandoned (the gateway never cancels at the platform: the customer left).
    S.EXPIRED: ["expired", "cancelled", "canceled", "invoice cancelled"],
    S.NEEDS_REVIEW: ["refunded", "reversed", "partially refunded", "partially reversed",
                     "partially paid", "partially paid out"],
    S.REQUIRES_ACTION: ["awaiting clarification", "awaiting clarify data",
                        "awaiting redirect result", "awaiting 3ds result",
                        "awaiting customer action", "awaiting customer", "awaiting payment",
                        "invoice sent"],
    S.PROCESSING: ["awaiting clearing", "awaiting partially clearing", "clearing processing",
                   "awaiting capture", "awaiting finalization"],
    S.PENDING: ["processing", "external processing", "awaiting approval",
                "awaiting merchant auth", "awaiting confirmation",
                "scheduled recurring processing", "awaiting retry", "unknown"],
}  # fmt: skip
CLASS_OF = {status: cls for cls, statuses in EXPECTED_CLASS.items() for status in statuses}
AWAITING_WITH_DATA = [
    "awaiting redirect result", "awaiting 3ds result", "awaiting customer action",
    "awaiting customer", "awaiting payment", "invoice sent",
]  # fmt: skip
DOC_URL = "https://www.vn/checkout/version31/index/token_code/24963023"


def example(file: str, *, numbers_as_text: bool = False) -> dict[str, Any]:
    text = (EVENTS / file).read_text(encoding="utf-8")
    as_text: dict[str, Any] = {"parse_int": str, "parse_float": str} if numbers_as_text else {}
    document: dict[str, Any] = json.loads(text, **as_text)
    return document


def callback(status: str | None, **extra: Any) -> Callback:
    document = {
        "payment": {"id": "pay_1", "status": status, "sum": {"amount": 1000, "currency": "VND"}}
    }
    return Callback.model_validate({**document, **extra})


# -- statuses ----------------------------------------------------------------------------------


def test_every_documented_status_is_in_the_table() -> None:
    documented = set(PAYMENT_STATUSES) | set(OPERATION_STATUSES)
    assert sorted(documented - set(STATUS_MAP)) == []
    assert set(CLASS_OF) == set(STATUS_MAP) == documented


@pytest.mark.parametrize("status", sorted(set(PAYMENT_STATUSES) | set(OPERATION_STATUSES)))
def test_every_documented_status_maps_to_its_class(status: str) -> None:
    assert STATUS_MAP[status] is CLASS_OF[status]
    if status != "unknown":
        assert map_status(status, None) is CLASS_OF[status]
        assert map_status(None, status) is CLASS_OF[status]  # operation status alone
        assert map_status(f"  {status.upper()} ", None) is CLASS_OF[status]


@pytest.mark.parametrize(
    ("payment", "operation", "expected"),
    [
        (None, None, S.PENDING), ("", "", S.PENDING), ("something new", None, S.PENDING),
        (" ", "  ", S.PENDING), ("unknown", None, S.PENDING),
        ("brand new", "decline", S.FAILED),  # unknown payment status: the operation's stands in
        (None, "success", S.SUCCEEDED),
        ("unknown", "success", S.SUCCEEDED),  # the literal `unknown` says nothing either
        ("processing", "success", S.PENDING),  # a known payment status wins
        ("success", "decline", S.SUCCEEDED),
        ("decline", "awaiting redirect result", S.FAILED),
    ],
)  # fmt: skip
def test_payment_status_wins_and_unknown_is_pending(
    payment: str | None, operation: str | None, expected: PaymentStatus
) -> None:
    assert map_status(payment, operation) is expected


@pytest.mark.parametrize("status", AWAITING_WITH_DATA)
def test_awaiting_without_data_stays_pending(status: str) -> None:
    assert update_from_callback(callback(status)).status is S.PENDING
    operation = {"status": status}
    update = update_from_callback(callback("processing", operation=operation))
    assert (update.status, update.next_action) == (S.PENDING, None)


@pytest.mark.parametrize("status", AWAITING_WITH_DATA)
def test_awaiting_with_redirect_data_requires_action(status: str) -> None:
    redirect = {"redirect_data": {"method": "GET", "url": DOC_URL}}
    update = update_from_callback(callback(status, **redirect))
    assert update.status is S.REQUIRES_ACTION
    assert update.next_action == RedirectAction(url=DOC_URL)


@pytest.mark.parametrize("status", ["awaiting clearing", "processing", "something new", None])
def test_any_non_terminal_status_with_redirect_data_requires_action(status: str | None) -> None:
    update = update_from_callback(callback(status, redirect_data={"url": DOC_URL}))
    assert update.status is S.REQUIRES_ACTION
    assert isinstance(update.next_action, RedirectAction)


@pytest.mark.parametrize("status", ["success", "decline", "expired", "canceled", "refunded"])
def test_terminal_statuses_ignore_action_data(status: str) -> None:
    extra = {"redirect_data": {"url": DOC_URL}, "display_data": [{"title": "number", "data": 1}]}
    update = update_from_callback(callback(status, **extra))
    assert update.status is CLASS_OF[status] and update.next_action is None


def test_processing_class_statuses_without_data_stay_processing() -> None:
    update = update_from_callback(callback("awaiting clearing"))
    assert (update.status, update.next_action) == (S.PROCESSING, None)


# -- the docs' examples ------------------------------------------------------------------------


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
@pytest.mark.parametrize("numbers_as_text", [False, True], ids=["json", "numbers-as-text"])
def test_every_doc_example_maps_to_its_expected_outcome(
    entry: dict[str, Any], numbers_as_text: bool
) -> None:
    """As loaded by json, and as the webhook reads it (numbers kept as text, for signing)."""
    parsed = Callback.model_validate(example(entry["file"], numbers_as_text=numbers_as_text))
    update = update_from_callback(parsed)
    assert update.status == entry["expected_status"]
    assert parsed.is_payout is (entry["kind"] == "payout")
    code = update.failure.provider_code if update.failure else None
    assert code == entry["expected_failure_provider_code"]
    action = update.next_action.type if update.next_action else None
    assert action == entry["expected_next_action"]
    assert update.provider_reference == (parsed.operation.request_id if parsed.operation else None)
    if update.status is S.SUCCEEDED:
        assert parsed.payment.sum is not None
        assert (update.amount_received, update.currency) == (parsed.payment.sum.amount, "VND")
    if update.status is S.FAILED:
        assert update.failure is not None and update.failure.code == "provider_declined"


def test_manifest_entries_are_complete() -> None:
    keys = {"provider", "file", "doc", "section", "kind", "expected_status",
            "expected_failure_provider_code", "expected_next_action", "note"}  # fmt: skip
    stored = {
        f"{folder}/{path.name}"
        for folder in ("ecommpay", "monetix")
        for path in (EVENTS / folder).glob("*.json")
    }
    assert {entry["file"] for entry in MANIFEST} == stored
    for entry in MANIFEST:
        assert set(entry) == keys, entry["file"]
        assert entry["file"].startswith(entry["provider"] + "/")
        assert entry["expected_status"] in set(PaymentStatus)


def test_success_reports_payment_sum_not_sum_converted() -> None:
    document = example("ecommpay/nganluong-gate-payout-success.json")
    assert document["operation"]["sum_converted"]["amount"] == 1000  # the docs' slip
    update = update_from_callback(Callback.model_validate(document))
    assert (update.status, update.amount_received, update.currency) == (S.SUCCEEDED, 100000, "VND")


def test_decline_failure_is_readable_and_names_no_brand() -> None:
    update = update_from_callback(
        Callback.model_validate(example("ecommpay/atm-gate-purchase-decline.json"))
    )
    assert update.failure is not None
    assert update.failure.model_dump() == {
        "code": "provider_declined",
        "message": "the payment platform declined the payment (code 2801: Bank ID not found)",
        "provider_code": "2801",
        "provider_message": "Bank ID not found",
    }


def test_duplicate_series_decline_is_explained() -> None:
    document = example("monetix/bank-transfer-gate-ch1-purchase-decline.json")
    document["operation"] |= {"code": 3613, "message": "Duplicate operation"}
    update = update_from_callback(Callback.model_validate(document))
    assert update.failure is not None
    assert update.failure.provider_code == "3613"
    assert update.failure.message == (
        "declined as a duplicate: the same customer and amount joined a series that another "
        "payment completed (code 3613)"
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("decline", "provider_declined"), ("internal error", "provider_declined"),
        ("cancelled", "expired"), ("canceled", "expired"), ("expired", "expired"),
        ("invoice cancelled", "expired"),
        ("refunded", "provider_reported_refunded"),
        ("partially paid", "provider_reported_partially_paid"),
        ("partially paid out", "provider_reported_partially_paid_out"),
        ("reversed", "provider_reported_reversed"),
    ],
)  # fmt: skip
def test_failure_codes(status: str, code: str) -> None:
    update = update_from_callback(callback(status, operation={"code": "20000"}))
    assert update.failure is not None and update.failure.code == code
    assert update.failure.provider_code == "20000"
    assert "ecommpay" not in update.failure.message.lower()
    assert "monetix" not in update.failure.message.lower()


def test_failure_falls_back_to_the_first_error() -> None:
    errors = [{"code": 2801, "message": "Bank ID not found"}, {"code": "1"}]
    update = update_from_callback(callback("decline", errors=errors))
    assert update.failure is not None
    assert (update.failure.provider_code, update.failure.provider_message) == (
        "2801", "Bank ID not found",
    )  # fmt: skip
    nested = {"errors": [{"code": "2801", "message": "Bank ID not found"}]}
    update = update_from_callback(callback("decline", operation=nested))
    assert update.failure is not None and update.failure.provider_code == "2801"
    bare = update_from_callback(callback("decline"))
    assert bare.failure is not None and bare.failure.provider_code is None
    assert bare.failure.message == "the payment platform declined the payment (no code given)"


# -- redirect ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [entry for entry in MANIFEST if entry["expected_next_action"] == "redirect"],
    ids=lambda entry: entry["file"],
)
def test_doc_redirect_data_becomes_a_redirect(entry: dict[str, Any]) -> None:
    document = example(entry["file"])
    action = update_from_callback(Callback.model_validate(document)).next_action
    assert action == RedirectAction(url=document["redirect_data"]["url"], method="GET", params={})
    assert document["redirect_data"]["body"] == []  # the docs' list body → no params


@pytest.mark.parametrize(
    ("method", "body", "expected_method", "params"),
    [
        ("post", {"token": 7, "empty": None}, "POST", {"token": "7", "empty": ""}),
        (" Post ", None, "POST", {}),
        ("PUT", {"a": "b"}, "GET", {"a": "b"}),
        ("get", ["a", "b"], "GET", {}),
    ],
)  # fmt: skip
def test_redirect_method_and_params(
    method: str, body: Any, expected_method: str, params: dict[str, str]
) -> None:
    redirect = {"method": method, "url": "https://bank.example/x", "body": body}
    update = update_from_callback(callback("processing", redirect_data=redirect))
    assert update.next_action == RedirectAction(
        url="https://bank.example/x", method=expected_method, params=params
    )


@pytest.mark.parametrize("empty", [[], {}, "", {"method": "GET", "body": []}, {"url": ""}])
def test_redirect_data_without_a_url_is_nothing_to_act_on(empty: Any) -> None:
    update = update_from_callback(callback("awaiting redirect result", redirect_data=empty))
    assert (update.status, update.next_action) == (S.PENDING, None)


# -- transfer instructions -----------------------------------------------------------------------


def instructions(name: str) -> BankTransferInstructions:
    document = example(f"monetix/{name}.json")
    update = update_from_callback(Callback.model_validate(document))
    assert update.status is S.REQUIRES_ACTION
    assert isinstance(update.next_action, BankTransferInstructions)
    return update.next_action


def test_display_data_option_1() -> None:
    action = instructions("bank-transfer-gate-ch2-display-data-option1")
    assert action.model_dump(exclude={"instructions"}) == {
        "type": "bank_transfer_instructions",
        "bank": "Wooribank Việt Nam",
        "bank_code": None,
        "bank_abbr": None,
        "branch": "Hà Nội",
        "swift_code": "HVBKVNVXXXX",
        "account_no": "902014188917",
        "account_name": "PAYME MNTX",
        "amount": None,
        "transfer_code": "TT 8575",
    }
    assert action.instructions == OPTION_1_TEXTS


def test_display_data_option_2() -> None:
    action = instructions("bank-transfer-gate-ch2-display-data-option2")
    assert action.model_dump(exclude={"instructions"}) == {
        "type": "bank_transfer_instructions",
        "bank": "Military Bank",
        "bank_code": "MBBANK",
        "bank_abbr": "MB",
        "branch": None,
        "swift_code": None,
        "account_no": "1234123412341",
        "account_name": "John Doe",
        "amount": 10000,
        "transfer_code": "B1234567890",
    }
    assert action.instructions == OPTION_2_TEXTS


def test_instruction_texts_are_the_docs_in_both_languages() -> None:
    assert (len(OPTION_1_TEXTS.vi), len(OPTION_1_TEXTS.en)) == (6, 6)
    assert (len(OPTION_2_TEXTS.vi), len(OPTION_2_TEXTS.en)) == (6, 5)
    assert OPTION_1_TEXTS.vi[0].startswith("Vui lòng chuyển khoản đúng thông tin Số tài khoản")
    assert OPTION_1_TEXTS.en[1].startswith("IMPORTANT! Please copy Transaction ID and put in")
    assert OPTION_2_TEXTS.vi[0] == "Hãy đảm bảo rằng bạn chuyển đến Tài khoản người thụ hưởng"
    assert OPTION_2_TEXTS.en[1].startswith("IMPORTANT! Please copy Transfer Code and put it in")
    for line in [*OPTION_1_TEXTS.vi, *OPTION_1_TEXTS.en, *OPTION_2_TEXTS.vi, *OPTION_2_TEXTS.en]:
        assert line and line[0] not in "0123456789" and line == line.strip()


def items(*pairs: tuple[str, Any]) -> list[DisplayItem]:
    return [DisplayItem(type="add_info", title=title, data=data) for title, data in pairs]


def test_option_1_titles_in_the_other_spelling_read_the_same() -> None:
    action = instructions_from_display_data(items(("bank_name", "Wooribank"), ("number", 9020)))
    assert (action.bank, action.account_no) == ("Wooribank", "9020")
    assert action.instructions == OPTION_1_TEXTS


def test_unknown_repeated_and_unreadable_items_are_kept() -> None:
    action = instructions_from_display_data(
        items(
            ("qrCode", "000201..."), ("type", "odd"), ("instructions", ["x"]),
            ("bankName", "A Bank"), ("bank_name", "A Bank"), ("bank_name", "B Bank"),
            ("request_amount", "10.5"), ("", {"nested": 1}), ("account_no", None),
        )
    )  # fmt: skip
    dumped = action.model_dump()
    assert dumped["qr_code"] == "000201..."
    assert dumped["type"] == "bank_transfer_instructions"
    assert (dumped["type_2"], dumped["instructions_2"]) == ("odd", ["x"])
    assert (dumped["bank"], dumped["bank_name"]) == ("A Bank", "B Bank")  # the repeat is kept
    assert (dumped["amount"], dumped["request_amount"]) == (None, "10.5")
    assert (dumped["untitled"], dumped["account_no_2"]) == ({"nested": 1}, None)
    assert dumped["instructions"] == OPTION_1_TEXTS.model_dump()


def test_display_data_callback_without_option_1_titles_gets_option_2_texts() -> None:
    data = [{"type": "add_info", "title": "qrCode", "data": "000201..."}]
    action = update_from_callback(callback("processing", display_data=data)).next_action
    assert isinstance(action, BankTransferInstructions)
    assert action.instructions == OPTION_2_TEXTS


@pytest.mark.parametrize("empty", [[], {}, None])
def test_empty_display_data_is_nothing_to_show(empty: Any) -> None:
    update = update_from_callback(callback("awaiting customer action", display_data=empty))
    assert (update.status, update.next_action) == (S.PENDING, None)


# -- clarification -------------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "card": {"type": "object", "properties": {"pan": {"type": "string"},
                                                  "year": {"type": "integer"}}},
        "customer": {"type": "object", "properties": {"phone": {"type": "string"}}},
    },
    "required": ["card"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "paths"),
    [
        (SCHEMA, ["card.pan", "card.year", "customer.phone"]),
        ({"type": "object", "required": ["customer.phone", "card.pan"]},
         ["card.pan", "customer.phone"]),
        ({"card": {"pan": None, "month": None}, "customer": {"phone": ""}},
         ["card.month", "card.pan", "customer.phone"]),
        (["customer.phone", " ", "card.pan", " card.pan", 7], ["card.pan", "customer.phone"]),
        (" card.pan ", ["card.pan"]),
        ("", []), (None, []), (42, []), ({}, []), ([], []),
    ],
)  # fmt: skip
def test_clarification_paths(fields: Any, paths: list[str]) -> None:
    assert clarification_paths(fields) == paths


@pytest.mark.parametrize("where", ["payment", "operation"])
def test_clarification_callback_becomes_a_clarification_action(where: str) -> None:
    payment_status = "awaiting clarification" if where == "payment" else "processing"
    operation = {"status": "awaiting clarification"} if where == "operation" else {}
    update = update_from_callback(
        callback(payment_status, operation=operation, clarification_fields=SCHEMA)
    )
    assert update.status is S.REQUIRES_ACTION
    assert update.next_action == ClarificationAction(
        fields=["card.pan", "card.year", "customer.phone"], message=None
    )


def test_clarification_keeps_the_operation_message() -> None:
    operation = {"status": "awaiting clarify data", "message": "Need card data"}
    update = update_from_callback(
        callback("processing", operation=operation, clarification_fields=["card.pan"])
    )
    assert update.next_action == ClarificationAction(fields=["card.pan"], message="Need card data")


def test_clarification_without_readable_fields_still_asks() -> None:
    update = update_from_callback(callback("awaiting clarification", clarification_fields=5))
    assert update.status is S.REQUIRES_ACTION
    action = update.next_action
    assert isinstance(action, ClarificationAction) and action.fields == []
    assert action.message is not None and "asked for more data" in action.message


# -- wire models ---------------------------------------------------------------------------------


def test_wire_types_accept_numbers_and_numeric_text() -> None:
    assert Sum.model_validate({"amount": "2000", "currency": "VND"}).amount == 2000
    assert Sum.model_validate({"amount": 2000}).amount == 2000
    assert Sum.model_validate({"amount": "2000.00"}).amount == 2000
    operation = CallbackOperation.model_validate({"id": 360, "code": 3613})
    assert (operation.id, operation.code) == ("360", "3613")
    parsed = Callback.model_validate({"project_id": 603, "payment": {"id": 7}})
    assert (parsed.project_id, parsed.payment.id) == ("603", "7")


def test_callback_keeps_unknown_fields_inside_documented_objects_only() -> None:
    parsed = Callback.model_validate({"payment": {"id": "p", "extra": 1}})
    assert parsed.payment.model_extra == {"extra": 1}
    with pytest.raises(ValidationError, match="new_block"):
        Callback.model_validate({"payment": {"id": "p"}, "new_block": {"a": 1}})


@pytest.mark.parametrize(
    ("answer", "accepted"),
    [
        ({"status": "success", "request_id": "r1", "project_id": 603, "payment_id": "p"}, True),
        ({"status": "error", "code": 3041, "message": "Payment ID already exists"}, False),
        ({}, False),
    ],
)
def test_gate_answer(answer: dict[str, Any], accepted: bool) -> None:
    parsed = GateAnswer.model_validate(answer)
    assert parsed.accepted is accepted
    if "code" in answer:
        assert parsed.code == "3041"


def test_status_answer_uses_the_last_operation() -> None:
    answer = StatusAnswer.model_validate(
        {"project_id": 603, "payment": {"id": "pay_1", "status": "decline"},
         "operations": [{"status": "success", "code": "0"}, {"status": "decline", "code": "20000",
                                                             "request_id": "req-2"}]}
    )  # fmt: skip
    as_callback = answer.as_callback()
    assert as_callback.project_id == "603"
    update = update_from_callback(as_callback)
    assert (update.status, update.provider_reference) == (S.FAILED, "req-2")
    assert update.failure is not None and update.failure.provider_code == "20000"


def test_status_answer_without_operations_carries_its_action_data() -> None:
    answer = StatusAnswer.model_validate(
        {"payment": {"id": "pay_1", "status": "processing"}, "operations": [],
         "redirect_data": {"url": DOC_URL}}
    )  # fmt: skip
    update = update_from_callback(answer.as_callback())
    assert update.status is S.REQUIRES_ACTION and update.next_action == RedirectAction(url=DOC_URL)
    empty = StatusAnswer.model_validate({"operations": {}})
    assert update_from_callback(empty.as_callback()).status is S.PENDING


# -- dedupe --------------------------------------------------------------------------------------


def test_dedupe_key_ignores_the_signature_and_sees_every_field() -> None:
    document = example("ecommpay/atm-gate-purchase-success.json")
    copy = json.loads(json.dumps(document, indent=None, sort_keys=True))
    copy["signature"] = "another signature"
    key = dedupe_key(document)
    assert len(key) == 40 and int(key, 16) >= 0
    assert dedupe_key(copy) == key
    changed = json.loads(json.dumps(document))
    changed["operation"]["status"] = "decline"
    assert dedupe_key(changed) != key
    changed = json.loads(json.dumps(document))
    changed["operation"]["provider"]["auth_code"] = "1"
    assert dedupe_key(changed) != key
