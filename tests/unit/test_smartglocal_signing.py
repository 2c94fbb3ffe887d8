"""Smart Glocal `X-PARTNER-SIGN`: the outside test vector (Bank 131 SDK), verification over
exact bytes, and verification with two keys during a rotation."""

from __future__ import annotations

from pathlib import Path

import pytest

from paygate.providers.smartglocal import signing

VECTORS = Path(__file__).parents[1] / "vectors/smartglocal"
PRIVATE = (VECTORS / "private.pem").read_text()
PUBLIC = (VECTORS / "public.pem").read_text()
# The Bank 131 SDK vector: body `{}` signed with private.pem (PKCS#1 v1.5 is deterministic).
EXPECTED = (
    "Q+euWta2W3WhIHq/t3Gkvqbvf5RztorP41mbIW21nKDDeaLw0FQuGCg4rwjN/scjFYk1+kBfP+8gau3hDm7uaUyke5K"
    "z44UkbOMVTpZROqS/ozqHllgHp7aatEDKil9WXAYadl8PlbhzbjgeDL1hvbEUyEzfaIxrZASNX9kZ08ORBGZCg76iEJ"
    "/HI5/I+QUdI3sEBPTn4gy88sPhlm5vYH1dVlPuMEDWTW7w7zVnV0hUvGeVygyJAW5Q3KbKtdQWajQJH9dPzISfV1rfc"
    "zHu4YnewkyEOASPg+HpiEJOxxeZRnUONzkavUJEaCznNApWIR0C0stlRItaN+EBNTKvUw=="
)


@pytest.fixture(scope="module")
def other_key() -> str:
    return signing.generate_private_key_pem()


def test_vector_signs_to_the_published_value() -> None:
    assert signing.sign(b"{}", PRIVATE) == EXPECTED


def test_vector_verifies_with_the_public_key() -> None:
    assert signing.is_valid(b"{}", EXPECTED, [PUBLIC])


def test_public_half_of_the_test_key_matches_public_pem() -> None:
    assert signing.is_valid(b"{}", EXPECTED, [signing.public_pem_of(PRIVATE)])


@pytest.mark.parametrize(
    "body",
    [b"{ }", b'{"a":1}', b"{}\n", b""],
    ids=["whitespace", "other-body", "trailing-newline", "empty"],
)
def test_any_other_bytes_do_not_verify(body: bytes) -> None:
    assert not signing.is_valid(body, EXPECTED, [PUBLIC])


@pytest.mark.parametrize("signature", [None, "", "not base64!", "AAAA", EXPECTED[:-8] + "AAAAAAA="])
def test_missing_garbled_or_wrong_signatures_are_invalid(signature: str | None) -> None:
    assert not signing.is_valid(b"{}", signature, [PUBLIC])


def test_rotation_either_active_key_verifies(other_key: str) -> None:
    body = b'{"type":"payment_finished"}'
    new_public = signing.public_pem_of(other_key)
    by_old, by_new = signing.sign(body, PRIVATE), signing.sign(body, other_key)
    assert signing.is_valid(body, by_old, [new_public, PUBLIC])
    assert signing.is_valid(body, by_new, [new_public, PUBLIC])
    assert not signing.is_valid(body, by_old, [new_public, ""])  # previous key retired


def test_no_configured_key_verifies_nothing() -> None:
    assert not signing.is_valid(b"{}", EXPECTED, ["", "  "])


def test_unreadable_key_is_a_clear_error() -> None:
    with pytest.raises(signing.KeyMaterialError):
        signing.sign(b"{}", "not a pem")
