"""The checkout page's QR codes (local/merchant/qr.py through the merchant proxy's
`GET /merchant/qr.svg`): the SVG holds segno's own symbol for the text, smallest version at
level M, and bad input is a clear 4xx."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import segno

from local.merchant import qr
from local.merchant.proxy import MerchantProxy
from tests.support.qr_svg import QR_TEXTS, modules


def _proxy() -> MerchantProxy:
    return MerchantProxy("http://127.0.0.1:9", "key", lambda: {"paths": {}})


def _get(query: str) -> tuple[int, str, bytes]:
    reply = _proxy().handle("GET", "/merchant/qr.svg", b"", {}, query)
    assert reply is not None
    return reply.status, reply.content_type, reply.body


@pytest.mark.parametrize("text", QR_TEXTS)
def test_the_svg_is_segnos_symbol_for_the_text(text: str) -> None:
    status, content_type, body = _get(f"data={quote(text)}")
    assert (status, content_type) == (200, "image/svg+xml")
    expected = segno.make_qr(text, error="m", boost_error=False)
    assert expected.designator.endswith("-M")
    assert modules(body) == [list(row) for row in expected.matrix]


def test_a_different_text_is_a_different_symbol() -> None:
    assert modules(qr.svg("order-1")) != modules(qr.svg("order-2"))


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, "malformed_request"),
        ("data=", 400, "malformed_request"),
        ("data=a&data=b", 400, "malformed_request"),
        ("data=%FF", 400, "malformed_request"),
        (f"data={'x' * (qr.MAX_DATA_BYTES + 1)}", 422, "data_too_long"),
        (f"data={quote('đ' * (qr.MAX_DATA_BYTES // 2 + 1))}", 422, "data_too_long"),
    ],
)
def test_bad_input_is_a_clear_4xx(query: str, status: int, code: str) -> None:
    answer_status, content_type, body = _get(query)
    assert (answer_status, content_type) == (status, "application/json")
    assert json.loads(body)["error"]["code"] == code


def test_the_longest_accepted_text_still_draws() -> None:
    status, _, body = _get(f"data={'x' * qr.MAX_DATA_BYTES}")
    assert status == 200 and modules(body)
