"""The sandboxes' own signature code, written from the providers' documents (not the gateway's):
each sandbox checks what it receives and signs what it sends with these.

- Paypro (Vietnam "Payment API" page, `sign`): "Use all fields except sign, sort them
  alphabetically, and concatenate as key1=value1key2=value2.... Then use the app secret as a
  salt for MD5 encryption. The sign should be in lowercase." The salt is appended (the best
  reading: the page does not say where it goes).
- The ecommpay/Monetix platform ("Signature generation and verification", as the official
  SDKs implement it): Base64 of HMAC-SHA512 over the `path:value` entries of every parameter,
  nested keys joined by `:` (array items by their index), sorted by path and joined by `;`;
  booleans are `1`/`0`, null is empty, empty objects and arrays add nothing, every `signature`
  and every `frame_mode` key is left out.
- Smart Glocal (`X-PARTNER-SIGN`): Base64 of an RSASSA-PKCS1-v1_5 / SHA-256 signature over the
  exact body bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# -- Paypro ------------------------------------------------------------------------------------


def _java_text(value: Any) -> str:
    """A JSON value as Paypro's Java side prints it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def paypro_plain(fields: Mapping[str, Any]) -> str:
    """`key1=value1key2=value2...` over every field except `sign`, keys in sorted order."""
    return "".join(f"{key}={_java_text(fields[key])}" for key in sorted(fields) if key != "sign")


def paypro_sign(fields: Mapping[str, Any], app_secret: str) -> str:
    salted = (paypro_plain(fields) + app_secret).encode()
    return hashlib.md5(salted, usedforsecurity=False).hexdigest()


def paypro_verify(fields: Mapping[str, Any], app_secret: str) -> bool:
    received = fields.get("sign")
    if not isinstance(received, str):
        return False
    return hmac.compare_digest(received.lower(), paypro_sign(fields, app_secret))


# -- the ecommpay/Monetix platform ---------------------------------------------------------------

_UNSIGNED_KEYS = ("signature", "frame_mode")


def _entries(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        children = [(str(k).replace(":", "::"), v) for k, v in value.items()]
        children = [(k, v) for k, v in children if k not in _UNSIGNED_KEYS]
    elif isinstance(value, list):
        children = [(str(index), item) for index, item in enumerate(value)]
    elif value is None:
        return [(path, "")]
    elif isinstance(value, bool):
        return [(path, "1" if value else "0")]
    else:
        return [(path, str(value))]
    found: list[tuple[str, str]] = []
    for key, child in children:
        found += _entries(child, f"{path}:{key}" if path else key)
    return found


def gate_plain(params: Mapping[str, Any]) -> str:
    return ";".join(f"{path}:{text}" for path, text in sorted(_entries(params, "")))


def gate_sign(params: Mapping[str, Any], secret: str) -> str:
    digest = hmac.new(secret.encode(), gate_plain(params).encode(), hashlib.sha512).digest()
    return base64.b64encode(digest).decode()


def gate_verify(document: Mapping[str, Any], secret: str) -> bool:
    """A callback-style signature at the root, or a Gate request's `general.signature`."""
    general = document.get("general")
    received = document.get("signature")
    if received is None and isinstance(general, Mapping):
        received = general.get("signature")
    if not isinstance(received, str) or not received:
        return False
    return hmac.compare_digest(received.encode(), gate_sign(document, secret).encode())


def gate_signed_request(body: dict[str, Any], secret: str) -> dict[str, Any]:
    """`body` with `general.signature` set (test helper, as a merchant signs a Gate call)."""
    general = {k: v for k, v in (body.get("general") or {}).items() if k != "signature"}
    unsigned = {**body, "general": general}
    return {**unsigned, "general": {**general, "signature": gate_sign(unsigned, secret)}}


# -- Smart Glocal --------------------------------------------------------------------------------

SMARTGLOCAL_SIGN_HEADER = "X-PARTNER-SIGN"


def rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def rsa_public_pem(private_key_pem: str) -> str:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def rsa_sign(body: bytes, private_key_pem: str) -> str:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(body: bytes, signature: str | None, public_key_pem: str) -> bool:
    key = serialization.load_pem_public_key(public_key_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        raw = base64.b64decode((signature or "").strip(), validate=True)
        key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return bool(raw)
