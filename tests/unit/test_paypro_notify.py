"""Paypro's Payment Notify through the real webhook flow (`paygate.webhooks.ingest`, a memory
ledger): the strict model (every documented notify passes; every one-field format mutation and
every unknown key is refused, counted, stores nothing), the merchant number, the signed
`timestamp`'s age and skew, and the re-split of a signed notify's `key=value` text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import combinations
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paygate import clock
from paygate.domain import Kind, Method, Payment, PaymentStatus, Provider, ProviderUpdate
from paygate.errors import MalformedRequest, NotificationRefused, ProviderError
from paygate.ledger import Ledger
from paygate.observability import metrics
from paygate.providers.paypro import signing
from paygate.providers.paypro.transformers import Notify
from paygate.providers.paypro.webhook import PayproNotifies
from paygate.webhooks import WebhookChecks, ingest
from tests.conftest import load_event, metric_names
from tests.support.memory import MemoryRepository

SECRET = "unit-paypro-secret"
MERCHANT_NO = "1573818477"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=48)
PAYMENT_ID = "pay_202611230259503f9a1c0b7e"
PAYOUT_ID = "po_20261123025950a1b2c3d4e5"
DOCUMENTED = ("notify-success", "notify-processing", "notify-declined")


def ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def contract(checks: WebhookChecks | None = None, query: Any = None) -> PayproNotifies:
    return PayproNotifies(
        lambda: [SECRET], lambda: MERCHANT_NO, checks or WebhookChecks(max_age=MAX_AGE), query
    )


def ledger_with(payment_id: str, status: PaymentStatus) -> Ledger:
    repository = MemoryRepository()
    kind = Kind.PAYOUT if payment_id.startswith("po_") else Kind.PAYMENT
    payment = Payment(
        id=payment_id,
        kind=kind,
        provider=Provider.PAYPRO,
        method=Method.VIETQR,
        amount=50000,
        merchant_reference="order-7",
        provider_reference="jfr6npomvg2qaa49",
        status=status,
        created_at=NOW - timedelta(minutes=5),
        updated_at=NOW - timedelta(minutes=5),
    )
    repository.create(payment)
    return Ledger(repository, clock=clock.now)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def at_now() -> Iterator[None]:
    clock.use(lambda: NOW)
    yield
    clock.use(None)


def signed(fields: dict[str, Any]) -> dict[str, Any]:
    unsigned = {key: value for key, value in fields.items() if key != "sign"}
    return {**unsigned, "sign": signing.sign(unsigned, SECRET)}


def documented(name: str = "notify-success", **changes: Any) -> dict[str, Any]:
    """A documented notify (events/paypro), for our payment, signed a second ago."""
    fields: dict[str, Any] = load_event(f"paypro/{name}.json")
    fields.update(tradeNo=PAYMENT_ID, timestamp=ms(NOW - timedelta(seconds=1)))
    fields.update(changes)
    return signed(fields)


def deliver(
    ledger: Ledger, document: dict[str, Any], notifies: PayproNotifies | None = None
) -> Any:
    raw = json.dumps(document, ensure_ascii=False).encode()
    return ingest(ledger, notifies or contract(), raw)


def refused(
    document: dict[str, Any], capsys: pytest.CaptureFixture[str], status: PaymentStatus
) -> MalformedRequest:
    """The notify is refused (400), counted, stores nothing and changes nothing."""
    ledger = ledger_with(document.get("tradeNo") or PAYMENT_ID, status)
    capsys.readouterr()
    with pytest.raises(MalformedRequest) as refusal:
        deliver(ledger, document)
    metrics.flush_metrics()
    assert "WebhookRefused" in metric_names(capsys.readouterr().out)
    assert ledger.repository.webhooks == {}  # type: ignore[attr-defined]
    for payment in ledger.repository.payments.values():  # type: ignore[attr-defined]
        assert (payment.status, payment.version) == (status, 1)
    return refusal.value


# -- the documented notifies --------------------------------------------------------------------


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_documented_notify_is_in_the_model_as_documented(name: str) -> None:
    notify = Notify.model_validate(signed(load_event(f"paypro/{name}.json")))  # as sent
    assert notify.tradeNo.startswith("pay_") and len(notify.timestamp) == 13


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("notify-success", PaymentStatus.SUCCEEDED),
        ("notify-processing", PaymentStatus.REQUIRES_ACTION),
        ("notify-declined", PaymentStatus.FAILED),
    ],
)
def test_every_documented_notify_is_applied(name: str, status: PaymentStatus) -> None:
    ledger = ledger_with(PAYMENT_ID, PaymentStatus.REQUIRES_ACTION)
    deliver(ledger, documented(name))
    assert ledger.get(PAYMENT_ID).status is status


def test_our_merchant_number_is_accepted_another_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = ledger_with(PAYMENT_ID, PaymentStatus.REQUIRES_ACTION)
    deliver(ledger, documented(merchantNo=MERCHANT_NO))
    assert ledger.get(PAYMENT_ID).status is PaymentStatus.SUCCEEDED
    other = refused(documented(merchantNo="1573818478"), capsys, PaymentStatus.REQUIRES_ACTION)
    assert isinstance(other, NotificationRefused) and other.field == "merchantNo"


# -- one-field format mutations, unknown keys -------------------------------------------------

FULLWIDTH_0015 = "\uff10\uff10\uff11\uff15"  # digits, but not ASCII
ARABIC_INDIC_50000 = "\u0665\u0660\u0660\u0660\u0660"
MUTATIONS: dict[str, list[Any]] = {
    "status": ["", "15", "00000000", "0015 ", " 0015", "O015", FULLWIDTH_0015, "0015\n",
               "0015timestamp=1", "-015", 15, None, True, ["0015"]],
    "message": ["line\nbreak", "nul\x00", "tab\there", "c1\x85", "x" * 257, None, {"a": "b"}],
    "platFormTradeNo": ["", "a b", "a=b", "x" * 65, "../x", "\u0436", "jfr6\n", None],
    "tradeNo": ["133323392", "pay_1", "pay_2026112302595", "pay_202611230259503F9A1C0B7E",
                "pay_202611230259503f9a1c0b7e0", "pay_202611230259503f9a1c0b7e\n",
                "PAY_202611230259503f9a1c0b7e", "px_202611230259503f9a1c0b7e",
                "pay_" + "\u0662" * 14 + "3f9a1c0b7e", "", None],
    "amount": ["", "50000.00", "5e4", "-50000", " 50000", "50,000", "1" * 65, ARABIC_INDIC_50000,
               "0x10", None],
    "successTime": ["yesterday", "2024-10-17", "2024-10-17 15:24:41 extra",
                    "2024-10-17 15:24:41\n", "2024-10-17  15:24:41", "x" * 40],
    "timestamp": ["", "1729153481", "17291534815900", "1729153481590.0", "-729153481590",
                  "1729153481590 ", None],
    "merchantNo": ["", "abc", "1" * 21, "1573818477\n"],
}  # fmt: skip


def _mutations() -> list[tuple[str, Any]]:
    return [(field, value) for field, values in MUTATIONS.items() for value in values]


@pytest.mark.parametrize(("field", "value"), _mutations())
def test_a_signed_notify_with_one_field_out_of_format_is_refused(
    field: str, value: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    document = documented(**{field: value})
    assert signing.is_valid(document, [SECRET])  # the signature is not what refuses it
    refusal = refused(document, capsys, PaymentStatus.REQUIRES_ACTION)
    assert refusal.field == field
    assert refusal.message.endswith("is missing or invalid")


@pytest.mark.parametrize("field", ["status", "message", "platFormTradeNo", "tradeNo", "amount",
                                   "timestamp"])  # fmt: skip
def test_a_signed_notify_without_a_documented_field_is_refused(
    field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = documented()
    document.pop(field)
    assert refused(signed(document), capsys, PaymentStatus.REQUIRES_ACTION).field == field


@pytest.mark.parametrize("sign", ["", "x", "0" * 31, "g" * 32, "0" * 33])
def test_a_sign_out_of_format_is_refused_by_the_model(sign: str) -> None:
    with pytest.raises(ValueError, match="sign"):
        Notify.model_validate({**documented(), "sign": sign})


@pytest.mark.parametrize(
    "key",
    ["extra", "Status", "status ", "sign2", "tradeno", "notifyUrl", "remark", "payment.status",
     "data", "merchantno", "statuss"],
)  # fmt: skip
def test_a_signed_notify_with_an_unknown_key_is_refused(
    key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refusal = refused(documented(**{key: "0000"}), capsys, PaymentStatus.REQUIRES_ACTION)
    assert refusal.field == key
    assert refusal.message == f"notify field {key} is not a documented field"


# -- freshness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "applied"),
    [
        (-MAX_AGE, True),  # just inside: as old as allowed
        (-MAX_AGE - timedelta(milliseconds=1), False),
        (-timedelta(days=91), False),
        (timedelta(minutes=10), True),  # Paypro's clock 10 min ahead of ours
        (timedelta(minutes=10, milliseconds=1), False),
        (timedelta(days=365), False),
    ],
)
def test_the_signed_timestamp_must_be_neither_too_old_nor_ahead(
    offset: timedelta, applied: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    document = documented(timestamp=ms(NOW + offset))
    if not applied:
        refusal = refused(document, capsys, PaymentStatus.REQUIRES_ACTION)
        assert (type(refusal), refusal.field) == (NotificationRefused, "timestamp")
        return
    ledger = ledger_with(PAYMENT_ID, PaymentStatus.REQUIRES_ACTION)
    deliver(ledger, document)
    assert ledger.get(PAYMENT_ID).status is PaymentStatus.SUCCEEDED


@settings(max_examples=300, deadline=None)
@given(offset_ms=st.integers(min_value=-100 * 3600_000, max_value=3600_000))
def test_a_notify_counts_only_inside_its_window(offset_ms: int) -> None:
    document = documented(timestamp=str(int(NOW.timestamp() * 1000) + offset_ms))
    ledger = ledger_with(PAYMENT_ID, PaymentStatus.REQUIRES_ACTION)
    inside = -MAX_AGE <= timedelta(milliseconds=offset_ms) <= timedelta(minutes=10)
    try:
        deliver(ledger, document)
    except NotificationRefused as refusal:
        assert not inside and refusal.field == "timestamp"
    else:
        assert inside and ledger.get(PAYMENT_ID).status is PaymentStatus.SUCCEEDED


# -- the re-split of the signed text -------------------------------------------------------------

KEYS = tuple(sorted(name for name in Notify.model_fields if name != "sign"))


def resplits(text: str) -> list[dict[str, str]]:
    """Every document of known keys whose signed text is `text`: `key=value` pairs, keys in
    ascending order, no value empty (Paypro's rule). Unknown keys are refused by the model
    whatever their value (test above), so they are not enumerated."""

    @cache
    def parse(position: int, first_key: int) -> tuple[tuple[tuple[str, str], ...], ...]:
        if position == len(text):
            return ((),)
        found: list[tuple[tuple[str, str], ...]] = []
        for index in range(first_key, len(KEYS)):
            opening = f"{KEYS[index]}="
            if not text.startswith(opening, position):
                continue
            start = position + len(opening)
            for end in range(start + 1, len(text) + 1):
                for rest in parse(end, index + 1):
                    found.append(((KEYS[index], text[start:end]), *rest))
        return tuple(found)

    return [dict(pairs) for pairs in parse(0, 0)]


def outcome(document: dict[str, Any], payment_id: str, before: PaymentStatus) -> PaymentStatus:
    """The payment's status after the notify (`MalformedRequest` when it is refused: a 400)."""
    ledger = ledger_with(payment_id, before)
    deliver(ledger, document)
    return ledger.get(payment_id).status


def with_unsigned(variant: dict[str, str]) -> Iterator[dict[str, Any]]:
    """`variant`, and `variant` with up to two absent known keys added empty or null: values
    the signature skips, so an attacker adds them for free."""
    absent = [key for key in KEYS if key not in variant]
    yield variant
    for count in (1, 2):
        for keys in combinations(absent, count):
            for empty in ("", None):
                yield {**variant, **dict.fromkeys(keys, empty)}


def check_resplits(original: dict[str, Any], payment_id: str, before: PaymentStatus) -> int:
    """Every re-split of `original`'s signed text (plus unsigned empty values) that carries its
    signature is refused or does exactly what the original does; the number accepted."""
    expected = outcome(original, payment_id, before)
    text = signing.string_to_sign(original)
    variants = resplits(text)
    signed_values = {k: v for k, v in original.items() if k != "sign" and v}
    assert signed_values in variants
    accepted = 0
    for variant in (found for split in variants for found in with_unsigned(split)):
        document = {**variant, "sign": original["sign"]}
        assert signing.is_valid(document, [SECRET])
        try:
            Notify.model_validate(document)  # cheap first look; ingest below is the judge
        except ValueError:
            continue
        try:
            status = outcome(document, variant.get("tradeNo", payment_id), before)
        except MalformedRequest:
            continue
        assert status is expected, (variant, status)
        # Stronger than the same status: only the original's own split validates.
        assert {k: v for k, v in variant.items() if v} == signed_values
        accepted += 1
    return accepted


def test_the_reported_resplit_of_a_payout_in_motion_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 22: a `0015` payout notify with the `timestamp` text moved into `status` carries
    the same sign and once read as `failed` (the merchant would pay again)."""
    original = documented("notify-processing", tradeNo=PAYOUT_ID)
    attack = {key: value for key, value in original.items() if key != "timestamp"}
    attack["status"] = f"0015timestamp={original['timestamp']}"
    assert signing.is_valid(attack, [SECRET])
    ledger_status = PaymentStatus.PROCESSING
    assert refused(attack, capsys, ledger_status).field == "status"
    assert outcome(original, PAYOUT_ID, ledger_status) is PaymentStatus.PROCESSING
    assert check_resplits(original, PAYOUT_ID, ledger_status) >= 1  # the original's own


STATUS_CODES = ["0000", "0015", "0001", "00029", "00032", "0100019", "5000", "8000"]
KEY_TEXT = [f"{key}=" for key in KEYS]
message_text = (
    st.lists(
        st.sampled_from(KEY_TEXT)
        | st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs", "S"]), max_size=6),
        max_size=5,
    )
    .map("".join)
    .filter(lambda text: len(text) <= 256)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from(STATUS_CODES) | st.from_regex(r"\A[0-9]{4,7}\Z"),
    payout=st.booleans(),
    message=message_text,
    amount=st.from_regex(r"\A[1-9][0-9]{4,9}\Z"),
    reference=st.from_regex(r"\A[A-Za-z0-9_-]{1,20}\Z"),
    success_time=st.none() | st.just("2026-11-23 09:59:59"),
    merchant=st.booleans(),
    age_ms=st.integers(min_value=0, max_value=47 * 3600_000),
)
def test_no_resplit_of_a_signed_notify_does_anything_but_what_it_says(
    status: str,
    payout: bool,
    message: str,
    amount: str,
    reference: str,
    success_time: str | None,
    merchant: bool,
    age_ms: int,
) -> None:
    payment_id = PAYOUT_ID if payout else PAYMENT_ID
    fields = {
        "status": status,
        "message": message,
        "platFormTradeNo": reference,
        "tradeNo": payment_id,
        "amount": amount,
        "timestamp": str(int(NOW.timestamp() * 1000) - age_ms),
    }
    if success_time:
        fields["successTime"] = success_time
    if merchant:
        fields["merchantNo"] = MERCHANT_NO
    before = PaymentStatus.PROCESSING if payout else PaymentStatus.REQUIRES_ACTION
    assert check_resplits(signed(fields), payment_id, before) >= 1


# -- confirmation -------------------------------------------------------------------------------


def test_confirming_needs_the_query() -> None:
    with pytest.raises(ValueError, match="query"):
        contract(WebhookChecks(max_age=MAX_AGE, confirm=True))


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=50000), "succeeded"),
        (ProviderUpdate(status=PaymentStatus.PENDING), "requires_action"),  # the query wins
        (ProviderError("Paypro is down", definitive=False), "requires_action"),  # unconfirmed
    ],
)
def test_a_success_counts_when_the_query_confirms_it(answer: Any, status: str) -> None:
    asked: list[str] = []

    def query(payment_id: str) -> ProviderUpdate:
        asked.append(payment_id)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    ledger = ledger_with(PAYMENT_ID, PaymentStatus.REQUIRES_ACTION)
    notifies = contract(WebhookChecks(max_age=MAX_AGE, confirm=True), query)
    deliver(ledger, documented(), notifies)
    assert asked == [PAYMENT_ID]
    assert ledger.get(PAYMENT_ID).status.value == status
