"""No value the gateway signs into a Payment Page URL can split the platform's signed text
(`path:value` entries joined by `;`, nothing escaped): such values are a 422 naming the field
at create, and for every value accepted the signed text has exactly one entry per parameter,
each under its own name (property-based, hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from paygate.api_requests import EcommpayPaymentRequest, MonetixPaymentRequest
from paygate.domain import Flow, Provider, payment_for
from paygate.errors import ValidationFailed
from paygate.providers.platform import rules, signing
from paygate.providers.platform.payment_page import (
    PAGE_TEXT_FIELDS,
    PAGE_URL_FIELDS,
    check_page_values,
    page_params,
)

CUSTOMER = {"id": "cust-7", "email": "an@example.com", "phone": "84438336996"}
BASE: dict[str, Any] = {
    "method": "bank_transfer",
    "amount": 300_000,
    "merchant_reference": "order-1",
    "flow": "payment_page",
    "customer": {**CUSTOMER, "first_name": "An", "last_name": "Nguyen"},
    "return_url": "https://shop.example/back?order=1&x=%3B",
}
SEPARATORS = [";", ":", "\x00", "\n", "\r", "\t", "\x7f", "\x85", "\u2028", "\u2029"]


def request(**changes: Any) -> MonetixPaymentRequest:
    body = {**BASE, **changes}
    return MonetixPaymentRequest.model_validate(body)


def with_value(path: str, value: str) -> MonetixPaymentRequest:
    body: dict[str, Any] = {**BASE, "customer": dict(BASE["customer"])}
    if path.startswith("customer."):
        body["customer"][path.split(".", 1)[1]] = value
    elif path.startswith("return_urls."):
        body["return_urls"] = {path.split(".", 1)[1]: value}
    else:
        body[path] = value
    return MonetixPaymentRequest.model_validate(body)


def refused_field(path: str, value: str) -> str | None:
    """The field a create with `value` at `path` is refused for (422: by the request model or
    by the page rule), None when it is accepted."""
    try:
        check_page_values(with_value(path, value))
    except ValidationFailed as refused:
        return refused.field
    except ValidationError as invalid:
        return ".".join(str(part) for part in invalid.errors()[0]["loc"])
    return None


@pytest.mark.parametrize("path", PAGE_TEXT_FIELDS)
@pytest.mark.parametrize("separator", SEPARATORS)
def test_a_separator_or_control_character_in_a_page_value_is_422_naming_it(
    path: str, separator: str
) -> None:
    value = f"x{separator}payment:status:success"
    if path == "customer.email":
        value = f"a{separator}b@example.com"
    assert refused_field(path, value) == path


@pytest.mark.parametrize("path", PAGE_URL_FIELDS)
@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/back;payment:status:success",
        "http://shop.example/back",
        "javascript:alert(1)",
        "https://shop.example/b\u00e1ck",
        "https://shop.example/ back",
        "https:///nohost",
        "ftp://shop.example/",
    ],
)
def test_a_return_url_must_be_https_of_url_characters_without_a_semicolon(
    path: str, url: str
) -> None:
    assert refused_field(path, url) == path


@pytest.mark.parametrize(
    "url", ["https://shop.example/back?o=1&s=%3B#top", "http://127.0.0.1:8000/back"]
)
def test_well_formed_return_urls_pass(url: str) -> None:
    check_page_values(with_value("return_url", url))


def test_the_gate_flow_keeps_its_descriptions() -> None:
    """Only the Payment Page is shown to the customer: a Gate request may say "Đơn hàng: 12"."""
    gate = EcommpayPaymentRequest.model_validate(
        {**BASE, "method": "nganluong_wallet", "flow": "gate", "description": "Đơn hàng: 12",
         "customer": {**CUSTOMER, "ip_address": "198.51.100.4"},
         "return_urls": {"success": "https://s.example/ok", "decline": "https://s.example/no"}}
    )  # fmt: skip
    rules.check_request(gate, 1)
    page = gate.model_copy(update={"flow": Flow.PAYMENT_PAGE})
    with pytest.raises(ValidationFailed, match="description"):
        rules.check_request(page, 1)


page_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40
)


@settings(max_examples=400, deadline=None)
@given(
    first=page_text,
    last=page_text,
    description=page_text,
    phone=page_text,
    path=st.text(alphabet="abcdefghij/-._~%&=?;:", max_size=30),
)
def test_every_accepted_page_signs_one_entry_per_parameter(
    first: str, last: str, description: str, phone: str, path: str
) -> None:
    customer = {**CUSTOMER, "first_name": first, "last_name": last, "phone": phone[:32]}
    try:
        accepted = request(
            customer=customer,
            description=description,
            return_url=f"https://shop.example/{path}",
        )
        check_page_values(accepted)
    except (ValidationFailed, ValueError):
        return  # refused at create: nothing is signed
    payment = payment_for(Provider.MONETIX, accepted)
    params = page_params(payment, accepted, 1234, datetime(2026, 12, 7, tzinfo=UTC))
    entries = signing.string_to_sign(params).split(";")
    assert len(entries) == len(params)
    assert [entry.split(":", 1)[0] for entry in entries] == sorted(params)
