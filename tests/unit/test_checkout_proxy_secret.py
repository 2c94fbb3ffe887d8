"""The checkout's calls through the merchant proxy (local/merchant/proxy.py): a payment's
read, confirm and cancel carry the browser's client secret in `x-api-key` and never the
merchant's key; a confirm or cancel without a secret reaches the gateway with no key at all
(its 401), so a payment id alone no longer confirms or cancels a payment."""

from __future__ import annotations

import pytest

from local.merchant.proxy import MerchantProxy

from .test_merchant_console_proxy import API_KEY, JSON, StubGateway, _call, gateway, proxy

__all__ = ["gateway", "proxy"]  # the fixtures, shared with the console's tests
SECRET = "pay_1_secret_" + "s" * 43


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/merchant/payments/pay_1"),
        ("POST", "/merchant/payments/pay_1/confirm"),
        ("POST", "/merchant/payments/pay_1/cancel"),
    ],
)
def test_the_checkouts_calls_carry_its_client_secret_only(
    proxy: MerchantProxy, gateway: StubGateway, method: str, path: str
) -> None:
    body = b"{}" if method == "POST" else b""
    _call(proxy, method, path, body, {**JSON, "x-api-key": SECRET})
    sent = gateway.only()
    assert (sent.method, sent.path) == (method, path.replace("/merchant", "/v1"))
    assert sent.headers["x-api-key"] == SECRET and API_KEY not in sent.headers.values()


@pytest.mark.parametrize("action", ["confirm", "cancel"])
def test_a_confirm_or_cancel_without_a_secret_carries_no_key(
    proxy: MerchantProxy, gateway: StubGateway, action: str
) -> None:
    _call(proxy, "POST", f"/merchant/payments/pay_1/{action}", b"{}", JSON)
    assert "x-api-key" not in gateway.only().headers


def test_a_read_without_a_secret_carries_no_key(proxy: MerchantProxy, gateway: StubGateway) -> None:
    """A payment id alone reads nothing: the gateway answers its 401."""
    _call(proxy, "GET", "/merchant/payments/pay_1", b"", {})
    assert "x-api-key" not in gateway.only().headers


def test_only_the_create_carries_the_merchant_key(
    proxy: MerchantProxy, gateway: StubGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MerchantProxy, "providers", lambda self: {"paypro"})
    monkeypatch.setattr(MerchantProxy, "_create_properties", lambda self, provider: {})
    _call(proxy, "POST", "/merchant/payments/paypro", b'{"amount": 50000}', JSON)
    assert gateway.only().headers["x-api-key"] == API_KEY
