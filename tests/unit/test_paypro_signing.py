"""Paypro `sign`: the vector computed outside this project (the rule of Paypro's "Signature"
sections) and the rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paygate.providers.paypro import signing

VECTORS = json.loads((Path(__file__).parents[1] / "vectors/paypro-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS)
def test_vector(vector: dict[str, object]) -> None:
    fields = vector["fields"]
    assert isinstance(fields, dict)
    assert signing.string_to_sign(fields) == vector["string_to_sign"]
    assert signing.sign(fields, str(vector["secret"])) == vector["sign"]


def test_the_documented_example_with_a_test_secret() -> None:
    fields = {
        "amount": "50000",
        "tradeNo": "133323392",
        "notifyUrl": "https://merchant.example/notify",
        "bankName": "VietQR",
        "timestamp": "1729153461856",
        "remark": "test",
    }
    assert signing.sign(fields, "TEST_SECRET") == "524c61aae3a3e893aa68a561573f4923"


def test_sign_field_and_empty_values_are_skipped() -> None:
    assert signing.string_to_sign({"b": "2", "a": "1", "sign": "x", "c": "", "d": None}) == "a=1b=2"


def test_keys_sort_by_code_unit_case_sensitive() -> None:
    assert signing.string_to_sign({"a": "1", "B": "2", "_": "3"}) == "B=2_=3a=1"


def test_values_render_like_java_string_value_of() -> None:
    assert signing.string_to_sign({"n": 50000, "t": True, "f": 1.5}) == "f=1.5n=50000t=true"


def test_is_valid_accepts_any_active_secret_and_rejects_others() -> None:
    fields = {"amount": "50000", "tradeNo": "t1"}
    old = {**fields, "sign": signing.sign(fields, "old-secret")}
    assert signing.is_valid(old, ["new-secret", "old-secret"])
    assert not signing.is_valid(old, ["new-secret"])
    assert not signing.is_valid({**fields, "sign": ""}, ["old-secret"])
    assert not signing.is_valid(fields, ["old-secret"])


def test_is_valid_detects_a_changed_field() -> None:
    fields = {"amount": "50000", "tradeNo": "t1"}
    good = {**fields, "sign": signing.sign(fields, "s")}
    assert signing.is_valid(good, ["s"])
    assert not signing.is_valid({**good, "amount": "50001"}, ["s"])


def test_upper_case_sign_is_accepted() -> None:
    fields = {"amount": "50000"}
    assert signing.is_valid({**fields, "sign": signing.sign(fields, "s").upper()}, ["s"])
