"""The local stand-in for the operators' Cognito user pool and its authorizer (local only:
in AWS the user pool signs ID tokens and API Gateway's Cognito authorizer checks them).

- The pool's users are `LocalConfig.operators` (a viewer and a reviewer by default).
- `POST /_local/cognito/sign-in` `{"username", "password"}` checks the password and answers
  an ID token with Cognito's claim names (`sub`, `email`, `cognito:groups`,
  `cognito:username`, `token_use: "id"`, `aud`, `iss`, `auth_time`, `iat`, `exp`), signed
  RS256 with an RSA key pair made when the pool starts (never stored); its public key is
  served as a JWKS at `GET /_local/cognito/.well-known/jwks.json`, as a user pool does.
- `authorize(header)` is the authorizer: the token of the `Authorization` header (bare, or
  after `Bearer `) is accepted only when it is a three-part JWS with `alg` RS256 and this
  pool's `kid`, its signature verifies under this pool's key, and `iss`, `aud`,
  `token_use` and `exp` (against the local clock) are this pool's and current. The claims
  are then handed to the function as API Gateway (REST) does: every value a string,
  `cognito:groups` comma-separated, times as `EEE MMM dd HH:mm:ss UTC yyyy`.

No MFA, no password change, no refresh token: the local pool is for trying the console and
for the tests, not a second identity provider."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.config import LocalOperator

SIGN_IN_PATH = "/_local/cognito/sign-in"
JWKS_PATH = "/_local/cognito/.well-known/jwks.json"
CLIENT_ID = "local-console"
POOL_ID = "ap-southeast-1_local"
TOKEN_LIFETIME = timedelta(hours=1)  # the template's IdTokenValidity
MAX_TOKEN_BYTES = 8192


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _password_digest(password: str) -> bytes:
    return hashlib.sha256(password.encode()).digest()


def gateway_time(seconds: int) -> str:
    """A time claim as API Gateway (REST) renders it in `authorizer.claims`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


class LocalUserPool:
    """Users, sign-in and the Cognito authorizer of the local runtime, on `clock`."""

    def __init__(
        self,
        operators: tuple[LocalOperator, ...],
        clock: Callable[[], datetime],
        issuer: str = f"https://cognito-idp.ap-southeast-1.amazonaws.com/{POOL_ID}",
    ) -> None:
        self.users = {operator.email.lower(): operator for operator in operators}
        self.clock = clock
        self.issuer = issuer
        self.kid = secrets.token_hex(8)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._key.public_key()

    # -- the user pool -------------------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> str | None:
        """An ID token for `username` when `password` is its password, else None (the same
        work either way: which of the two was wrong is not told)."""
        user = self.users.get(username.strip().lower())
        expected = _password_digest(user.password if user else secrets.token_hex(16))
        matches = hmac.compare_digest(expected, _password_digest(password))
        return self.issue(user) if user is not None and matches else None

    def issue(self, user: LocalOperator, lifetime: timedelta = TOKEN_LIFETIME) -> str:
        now = int(self.clock().timestamp())
        claims = {
            "sub": user.user_id,
            "email": user.email,
            "email_verified": True,
            "cognito:groups": list(user.groups),
            "cognito:username": user.user_id,
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "token_use": "id",
            "auth_time": now,
            "iat": now,
            "exp": now + int(lifetime.total_seconds()),
            "jti": str(uuid.uuid4()),
        }
        return self.sign({"alg": "RS256", "kid": self.kid}, claims)

    def sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """A JWS of `claims` under this pool's key (the tests also sign altered tokens)."""
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def jwks(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()

        def as_b64(value: int) -> str:
            return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        key = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid}
        return {"keys": [{**key, "n": as_b64(numbers.n), "e": as_b64(numbers.e)}]}

    # -- the authorizer ------------------------------------------------------------------------

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, current ID token of this pool, else None."""
        if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
            return None
        head, body, signature = token.split(".")
        try:
            header = json.loads(_unb64(head))
            raw_signature = _unb64(signature)
            if not isinstance(header, dict) or header.get("alg") != "RS256":
                return None
            if header.get("kid") != self.kid:
                return None
            self.public_key.verify(
                raw_signature, f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            claims = json.loads(_unb64(body))
        except (ValueError, binascii.Error, InvalidSignature, UnicodeDecodeError):
            return None
        if not isinstance(claims, dict):
            return None
        if claims.get("iss") != self.issuer or claims.get("aud") != CLIENT_ID:
            return None
        if claims.get("token_use") != "id" or not isinstance(claims.get("sub"), str):
            return None
        expires = claims.get("exp")
        if not isinstance(expires, int) or isinstance(expires, bool):
            return None
        if self.clock().timestamp() >= expires:
            return None
        return claims

    def authorize(self, authorization: str | None) -> dict[str, str] | None:
        """`requestContext.authorizer.claims` for the `Authorization` header, or None (401)."""
        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        claims = self.verify(token) if token else None
        return None if claims is None else gateway_claims(claims)

    # -- the local routes ----------------------------------------------------------------------

    def sign_in_route(self, method: str, body: bytes) -> tuple[int, str, bytes]:
        """`POST /_local/cognito/sign-in` {"username", "password"}."""
        if method != "POST":
            return _problem(405, None, "POST a JSON object with username and password")
        try:
            given = json.loads(body or b"{}")
        except ValueError:
            return _problem(400, "body", "gửi JSON {username, password}; send a JSON object")
        if not isinstance(given, dict):
            return _problem(400, "body", "gửi JSON {username, password}; send a JSON object")
        username, password = given.get("username"), given.get("password")
        for name, value in (("username", username), ("password", password)):
            if not isinstance(value, str) or not value or len(value) > 256:
                return _problem(400, name, f"nhập {name}; {name} is required (a string)")
        assert isinstance(username, str) and isinstance(password, str)
        token = self.sign_in(username, password)
        if token is None:
            return _problem(
                401,
                "password",
                "Sai email hoặc mật khẩu: thử lại. Wrong email or password: try again "
                "(make run prints the local operators)",
            )
        user = self.users[username.strip().lower()]
        answer = {
            "id_token": token,
            "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "email": user.email,
            "groups": list(user.groups),
        }
        return 200, "application/json", json.dumps(answer).encode()

    def jwks_route(self) -> tuple[int, str, bytes]:
        return 200, "application/json", json.dumps(self.jwks()).encode()


def gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The claims as API Gateway (REST) passes them to a function: every value a string."""
    rendered: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat", "auth_time") and isinstance(value, int):
            rendered[name] = gateway_time(value)
        elif isinstance(value, list):
            rendered[name] = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            rendered[name] = "true" if value else "false"
        else:
            rendered[name] = str(value)
    return rendered


def _problem(status: int, field: str | None, message: str) -> tuple[int, str, bytes]:
    error: dict[str, Any] = {"code": "sign_in_failed" if status == 401 else "bad_request"}
    error["message"] = message
    if field:
        error["field"] = field
    return status, "application/json", json.dumps({"error": error}, ensure_ascii=False).encode()
