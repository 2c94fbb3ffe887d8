"""Smart Glocal `X-PARTNER-SIGN`: Base64 of an RSASSA-PKCS1-v1_5 / SHA-256 signature over the
exact body bytes (Smart Glocal's API reference, "Request format"; the byte-level steps are
those of Bank 131's official PHP SDK `bank131/php-sdk`, whose test vector passes).

Requests are signed with our private key; webhooks are verified with Smart Glocal's public
key(s) over the raw bytes received, before any parsing. Nothing is canonicalised: the bytes
signed are the bytes sent.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGN_HEADER = "X-PARTNER-SIGN"
PROJECT_HEADER = "X-PARTNER-PROJECT"
IDEMPOTENCY_HEADER = "X-PARTNER-IDEMPOTENCY-KEY"


class KeyMaterialError(ValueError):
    """A configured PEM is not a usable RSA key."""


@lru_cache(maxsize=8)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """Our RSA private key from PEM (PKCS#1 or PKCS#8, unencrypted); cached per PEM."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError("the Smart Glocal private key is not a readable PEM") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyMaterialError("the Smart Glocal private key is not an RSA key")
    return key


@lru_cache(maxsize=8)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (SubjectPublicKeyInfo or PKCS#1); cached per PEM."""
    data = pem.encode()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError("a Smart Glocal public key is not a readable PEM") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyMaterialError("a Smart Glocal public key is not an RSA key")
    return key


def sign(body: bytes, private_key_pem: str) -> str:
    """The `X-PARTNER-SIGN` value for exactly `body`."""
    key = load_private_key(private_key_pem)
    signature = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def _decode(signature: str) -> bytes | None:
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def is_valid(body: bytes, signature: str | None, public_key_pems: Iterable[str]) -> bool:
    """True when `signature` (Base64) signs exactly `body` under any of the active public keys
    (two during a rotation). Empty PEMs are skipped; a missing signature is invalid."""
    if not signature:
        return False
    raw = _decode(signature)
    if not raw:
        return False
    for pem in public_key_pems:
        if not pem or not pem.strip():
            continue
        try:
            load_public_key(pem).verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return True
    return False


def public_pem_of(private_key_pem: str) -> str:
    """The public half of a private key, as SubjectPublicKeyInfo PEM."""
    public = load_private_key(private_key_pem).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def generate_private_key_pem(bits: int = 2048) -> str:
    """A fresh RSA private key as PKCS#8 PEM (the local runtime and sandbox; tests)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
