"""Personal data by design (docs/privacy.md): the one masking function, what stored callback
bodies and logs keep of personal fields, what events carry of a Payment Page URL, and the
erasure's `forget` (hypothesis draws the values and documents)."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from paygate.domain import Method, Payment, PaymentStatus, Provider, QrAction, RedirectAction
from paygate.events import StatusChanged
from paygate.masking import (
    ERASED,
    MAX_PREFIX,
    MAX_SUFFIX,
    PERSONAL_KEYS,
    erase,
    forget,
    mask,
    without_contact,
)
from paygate.providers.platform import payment_page
from paygate.settings import WEBHOOK_RETENTION_DAYS, MotionSettings

TEXT = st.text(min_size=0, max_size=80)


@given(TEXT)
def test_mask_shows_at_most_a_third_a_short_prefix_and_suffix(value: str) -> None:
    masked = mask(value)
    assert len(masked) == len(value)
    shown = [i for i, ch in enumerate(masked) if ch != "*"]
    assert len([i for i in range(len(value)) if value[i] != "*"]) >= len(shown)
    revealed = [i for i in range(len(value)) if masked[i] == value[i] and value[i] != "*"]
    assert len(revealed) <= min(MAX_PREFIX + MAX_SUFFIX, len(value) // 3)
    for i in revealed:  # only the first 2 and the last 4 positions
        assert i < MAX_PREFIX or i >= len(value) - MAX_SUFFIX
    assert all(masked[i] in ("*", value[i]) for i in range(len(value)))


@given(TEXT)
def test_masking_a_masked_value_changes_nothing(value: str) -> None:
    assert mask(mask(value)) == mask(value)


@given(st.text(alphabet=string.ascii_letters + string.digits + "@.", min_size=3, max_size=60))
def test_a_masked_value_never_holds_the_value(value: str) -> None:
    assert value not in mask(value)


def test_mask_examples_as_documented() -> None:
    assert mask("0912345678") == "0*******78"
    assert mask("an.nguyen@example.vn") == "an**************e.vn"
    assert mask("ab") == "**"


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), TEXT)
KEYS = st.one_of(st.sampled_from(sorted(PERSONAL_KEYS | {"number", "account", "id"})), TEXT)
DOCUMENTS = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


def _personal_values(value: Any, parent: str = "") -> list[str]:
    """Every scalar under a personal key (or `account.number`) of a document, as text."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key).lower()
            personal = name in PERSONAL_KEYS or (name == "number" and parent == "account")
            if personal:
                found += [json.dumps(leaf) for leaf in _leaves(item)]
            else:
                found += _personal_values(item, name)
    elif isinstance(value, list):
        for item in value:
            found += _personal_values(item, parent)
    return found


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


@given(DOCUMENTS)
def test_stored_bodies_keep_personal_values_only_masked(document: Any) -> None:
    stored = erase(document)
    expected = _personal_values(document)
    assert sorted(_personal_values(stored)) == sorted(
        json.dumps(mask(json.loads(leaf))) for leaf in expected
    )


def test_a_platform_callback_is_stored_masked() -> None:
    callback = {
        "customer": {"id": "cust-7", "email": "buyer@example.com", "phone": "84438336996"},
        "account": {"number": "123456789012", "customer_name": "John Doe", "bank_code": "VTB"},
        "payment": {"id": "pay_1", "sum": {"amount": 300000, "currency": "VND"}},
        "signature": "abc=",
    }
    stored = erase(callback)
    assert stored["customer"] == {"id": "cust-7", "email": "b************.com",
                                  "phone": "8********96"}  # fmt: skip
    assert stored["account"] == {"number": "1********012", "customer_name": "******oe",
                                 "bank_code": "VTB"}  # fmt: skip
    assert stored["payment"] == callback["payment"] and stored["signature"] == ERASED


def test_retention_is_the_longest_retry_window_plus_30_days() -> None:
    motion = MotionSettings()
    longest = max(motion.motion_platform_hours, motion.motion_paypro_hours,
                  motion.motion_smartglocal_hours)  # fmt: skip
    assert longest + 30 * 24 == WEBHOOK_RETENTION_DAYS * 24


def _page_payment(url: str) -> Payment:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Payment(
        id="pay_20260101000000abcdef0123", provider=Provider.MONETIX, method=Method.BANK_TRANSFER,
        status=PaymentStatus.REQUIRES_ACTION, amount=300000, merchant_reference="o-1",
        next_action=RedirectAction(url=url), created_at=now, updated_at=now,
    )  # fmt: skip


CONTACT = st.text(alphabet=string.ascii_letters + string.digits + "@.+-_", min_size=4, max_size=30)


@given(email=CONTACT, phone=CONTACT, first=CONTACT, last=CONTACT)
def test_events_carry_no_payment_page_contact_data(
    email: str, phone: str, first: str, last: str
) -> None:
    params = {"project_id": "1", "payment_id": "pay_1", "payment_amount": "300000",
              "customer_id": "cust-1", "customer_email": email, "customer_phone": phone,
              "customer_first_name": first, "customer_last_name": last}  # fmt: skip
    url = payment_page.signed_url("https://paymentpage.example/payment", params, "secret")
    event = StatusChanged.of(_page_payment(url), None)
    action = event.next_action
    assert isinstance(action, RedirectAction)
    published = dict(parse_qsl(urlsplit(action.url).query))
    assert published == {"project_id": "1", "payment_id": "pay_1", "payment_amount": "300000"}
    text = event.model_dump_json()
    for value in (email, phone, first, last, "cust-1"):
        assert f"={value}" not in text and value not in published.values()


def test_other_next_actions_are_published_as_they_are() -> None:
    payment = _page_payment("https://bank.example/pay?token=abc")
    assert StatusChanged.of(payment, None).next_action == payment.next_action
    qr = payment.model_copy(update={"next_action": QrAction(payment_link="https://q")})
    assert StatusChanged.of(qr, None).next_action == qr.next_action
    assert without_contact("https://x.example/p?a=1&signature=s") == (
        "https://x.example/p?a=1&signature=s"
    )


@given(st.text(alphabet=string.ascii_lowercase + string.digits, min_size=4, max_size=12))
def test_forget_erases_the_identifiers_as_whole_tokens_only(identifier: str) -> None:
    document = {
        "note": f"order for {identifier}",
        "other": f"x{identifier}x",
        "amount": 50000,
        "customer": {"id": identifier, "email": "a@b.vn"},
        "url": f"https://page.example/p?customer_id={identifier}&payment_id=p1&signature=s",
        "nested": json.dumps({"customer_email": identifier}),
    }
    forgotten = forget(document, {identifier})
    assert forgotten["note"] == ERASED and forgotten["other"] == f"x{identifier}x"
    assert forgotten["amount"] == 50000
    assert forgotten["customer"] == {"id": ERASED, "email": ERASED}
    assert forgotten["url"] == "https://page.example/p?payment_id=p1"
    assert json.loads(forgotten["nested"])["customer_email"] != identifier  # the value, not a
    # key that happens to contain it ("cust" in "customer_email", found by hypothesis)
