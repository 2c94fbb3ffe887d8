"""ecommpay/Monetix platform signature: the 8 SDK vectors (tests/vectors/ecommpay-vectors.json),
the SDKs' flattening vectors, verification and rotation (the official Payment Page SDKs' rules)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from paygate.providers.platform import signing
from paygate.providers.platform.payment_page import signed_url

VECTORS = json.loads((Path(__file__).parents[1] / "vectors/ecommpay-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS, ids=[f"vector-{i + 1}" for i in range(len(VECTORS))])
def test_sdk_vector(vector: dict[str, Any]) -> None:
    assert signing.sign(vector["params"], vector["secret"]) == vector["signature"]


def test_vector_still_matches_with_its_signature_inside() -> None:
    vector = VECTORS[0]
    document = {**vector["params"], "signature": vector["signature"]}
    assert signing.sign(document, vector["secret"]) == vector["signature"]
    assert signing.is_valid(document, [vector["secret"]])


def test_js_sdk_flattening_vector() -> None:
    params = {
        0: None,
        "a": {"b": 1, "c": 2},
        "d": False,
        "f": ["g", {"h": 7, "i": {"k": 8}}],
        "e": [4, 5],
        "l": {"m": [{"n": 9}]},
    }
    assert signing.string_to_sign(params) == (
        "0:;a:b:1;a:c:2;d:0;e:0:4;e:1:5;f:0:g;f:1:h:7;f:1:i:k:8;l:m:0:n:9"
    )


def test_go_sdk_flattening_vector() -> None:
    params = {
        "a": {"b": 1111111111111111, "c": 2},
        "d": False,
        "f": ["g", {"h": 7, "i": {"k": 8}}],
        "e": [4, 5],
        "j": None,
    }
    assert signing.string_to_sign(params) == (
        "a:b:1111111111111111;a:c:2;d:0;e:0:4;e:1:5;f:0:g;f:1:h:7;f:1:i:k:8;j:"
    )


def test_empty_containers_contribute_nothing_and_colons_are_escaped() -> None:
    assert signing.string_to_sign({"a": {}, "b": [], "c": "1"}) == "c:1"
    assert signing.string_to_sign({"a:b": "1"}) == "a::b:1"


def test_gate_body_example_from_providers_md() -> None:
    body = {
        "general": {"project_id": 123, "payment_id": "ORDER-1"},
        "customer": {"id": "cust-1", "ip_address": "1.2.3.4"},
        "payment": {"amount": 200000, "currency": "VND"},
        "return_url": {"success": "https://m.example/ok", "decline": "https://m.example/fail"},
    }
    signed = signing.with_signature(body, "secret")
    assert signed["general"]["signature"] == (
        "aHMl8JZ3wxlAhxYc/aCRjoZ/DMcV10/eEHaH0GlWXW3zzUL/4BM1n0BSXNKhv/MMYHMzHwF02vAk7UZAa0G+HA=="
    )
    assert signing.is_valid(signed, ["secret"])


def test_verification_removes_nested_signatures_and_refuses_tampering() -> None:
    document: dict[str, Any] = {"payment": {"id": "p-1", "status": "success"}}
    document["signature"] = signing.sign(document, "k")
    assert signing.is_valid(document, ["k"])
    tampered = {**document, "payment": {"id": "p-1", "status": "decline"}}
    assert not signing.is_valid(tampered, ["k"])
    assert not signing.is_valid({"payment": {"id": "p-1"}}, ["k"])  # no signature at all
    assert not signing.is_valid({**document, "signature": ""}, ["k"])


@pytest.mark.parametrize(
    ("secrets", "valid"),
    [(["new", "old"], True), (["old", "new"], True), (["new"], False), (["", "other"], False)],
)
def test_rotation_accepts_any_active_secret(secrets: list[str], valid: bool) -> None:
    document: dict[str, Any] = {"payment": {"id": "p-1"}}
    document["signature"] = signing.sign(document, "old")
    assert signing.is_valid(document, secrets) is valid


def test_payment_page_url_is_signed_over_unencoded_values() -> None:
    params = {
        "project_id": "12345",
        "payment_id": "X03936",
        "payment_amount": "3550",
        "payment_currency": "USD",
        "payment_description": "Guyliner purchase",
        "customer_first_name": "Jack",
        "customer_last_name": "Sparrow",
        "customer_phone": "02081234567",
    }
    url = signed_url("https://paymentpage.example/payment", params, "secret")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query.pop("signature") == (
        "e+kuzNpbptuGG4G7WxjuT8EFh90v2eMCh2EQ4y+hq5XX/aptGzhpi7a0uk/c7HdXj7M2o33WLrMNLEKD8yl3Kg=="
    )
    assert query == params
    assert url.rsplit("&", 1)[1].startswith("signature=e%2Bku")  # encoded after signing


def test_a_callback_is_flattened_once_for_its_signature_and_its_dedupe_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Verifying a callback (with two active secrets) and keying it flatten it once; the key
    is the same as one computed from the document alone."""
    from paygate.domain import Provider
    from paygate.providers.platform import transformers
    from paygate.providers.platform.webhook import PlatformCallbacks
    from paygate.providers.platform.wire import Callback

    document: dict[str, Any] = {
        "payment": {"id": "pay_1", "status": "success"},
        "account": {"x": [1, {}]},
    }
    raw = json.dumps({**document, "signature": signing.sign(document, "old")}).encode()
    contract = PlatformCallbacks(Provider.ECOMMPAY, lambda: ["new", "old"], lambda: 603)
    made = signing.string_to_sign
    calls: list[str] = []

    def counted(params: Any) -> str:
        calls.append("flatten")
        return made(params)

    monkeypatch.setattr(signing, "string_to_sign", counted)
    verified = contract.verified(raw, {})
    assert verified is not None
    key = contract.dedupe_key(Callback.model_validate(verified), verified)
    assert calls == ["flatten"]
    monkeypatch.setattr(signing, "string_to_sign", made)
    assert key == transformers.dedupe_key(json.loads(raw))
