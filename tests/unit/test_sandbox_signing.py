"""The sandboxes' own signature code (local/sandboxes/signatures.py) against the outside test
vectors in tests/vectors/ (official SDKs, the Bank 131 SDK key pair, Paypro's documented rule):
the gateway is checked against the same vectors, so both sides answer to the outside truth,
not to each other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.sandboxes import signatures

VECTORS = Path(__file__).parents[1] / "vectors"
GATE = json.loads((VECTORS / "ecommpay-vectors.json").read_text())
PAYPRO = json.loads((VECTORS / "paypro-vectors.json").read_text())
SG_PRIVATE = (VECTORS / "smartglocal/private.pem").read_text()
SG_PUBLIC = (VECTORS / "smartglocal/public.pem").read_text()
# tests/vectors (test-vectors README): body `{}` signed with private.pem.
SG_EXPECTED = (
    "Q+euWta2W3WhIHq/t3Gkvqbvf5RztorP41mbIW21nKDDeaLw0FQuGCg4rwjN/scjFYk1+kBfP+8gau3hDm7uaUyke5K"
    "z44UkbOMVTpZROqS/ozqHllgHp7aatEDKil9WXAYadl8PlbhzbjgeDL1hvbEUyEzfaIxrZASNX9kZ08ORBGZCg76iEJ"
    "/HI5/I+QUdI3sEBPTn4gy88sPhlm5vYH1dVlPuMEDWTW7w7zVnV0hUvGeVygyJAW5Q3KbKtdQWajQJH9dPzISfV1rfc"
    "zHu4YnewkyEOASPg+HpiEJOxxeZRnUONzkavUJEaCznNApWIR0C0stlRItaN+EBNTKvUw=="
)


@pytest.mark.parametrize("vector", GATE, ids=[f"vector-{i + 1}" for i in range(len(GATE))])
def test_gate_signature_reproduces_the_sdk_vectors(vector: dict[str, Any]) -> None:
    assert signatures.gate_sign(vector["params"], vector["secret"]) == vector["signature"]
    signed = {**vector["params"], "signature": vector["signature"]}
    assert signatures.gate_verify(signed, vector["secret"])
    assert not signatures.gate_verify(signed, vector["secret"] + "x")


def test_gate_request_signature_sits_in_general_and_covers_the_body() -> None:
    body = signatures.gate_signed_request({"general": {"project_id": 1}, "n": 2}, "s")
    assert signatures.gate_verify(body, "s")
    assert not signatures.gate_verify({**body, "n": 3}, "s")


@pytest.mark.parametrize("vector", PAYPRO)
def test_paypro_sign_reproduces_the_vector(vector: dict[str, Any]) -> None:
    assert signatures.paypro_plain(vector["fields"]) == vector["string_to_sign"]
    assert signatures.paypro_sign(vector["fields"], vector["secret"]) == vector["sign"]
    signed = {**vector["fields"], "sign": vector["sign"].upper()}
    assert signatures.paypro_verify(signed, vector["secret"])
    assert not signatures.paypro_verify({**signed, "amount": "50001"}, vector["secret"])


def test_smartglocal_signature_reproduces_the_bank131_vector() -> None:
    assert signatures.rsa_sign(b"{}", SG_PRIVATE) == SG_EXPECTED
    assert signatures.rsa_verify(b"{}", SG_EXPECTED, SG_PUBLIC)
    assert signatures.rsa_verify(b"{}", SG_EXPECTED, signatures.rsa_public_pem(SG_PRIVATE))


@pytest.mark.parametrize("signature", [None, "", "not base64!", SG_EXPECTED[:-8] + "AAAAAAA="])
def test_smartglocal_other_signatures_or_bytes_do_not_verify(signature: str | None) -> None:
    assert not signatures.rsa_verify(b"{}", signature, SG_PUBLIC)
    assert not signatures.rsa_verify(b"{ }", SG_EXPECTED, SG_PUBLIC)
