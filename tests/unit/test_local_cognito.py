"""The local user pool and Cognito authorizer (local/aws/cognito.py): a signed-in operator's
ID token opens the operator routes with Cognito's claims as API Gateway hands them on;
nothing forged, altered, unsigned, foreign or expired ever does (hypothesis draws them). The
clock is the test's own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.aws.cognito import CLIENT_ID, TOKEN_LIFETIME, LocalUserPool, gateway_time
from local.config import LocalConfig, LocalOperator

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
VIEWER, REVIEWER = LocalConfig().operators


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


CLOCK = Clock()
POOL = LocalUserPool(LocalConfig().operators, CLOCK)
OTHER_POOL = LocalUserPool(LocalConfig().operators, CLOCK)  # another key pair
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _clock_at_start() -> None:
    CLOCK.now = START


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pad(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    head, body, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(pad(head)))
    claims = json.loads(base64.urlsafe_b64decode(pad(body)))
    return header, claims, signature


def test_a_right_password_gets_an_id_token_with_cognito_s_claims() -> None:
    token = POOL.sign_in(REVIEWER.email, REVIEWER.password)
    assert token is not None
    header, claims, _ = parts(token)
    assert header == {"alg": "RS256", "kid": POOL.kid}
    assert claims["sub"] == REVIEWER.user_id and claims["email"] == REVIEWER.email
    assert claims["cognito:groups"] == ["reviewer"]
    assert (claims["token_use"], claims["aud"]) == ("id", CLIENT_ID)
    assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME.total_seconds()
    assert POOL.jwks()["keys"][0]["kid"] == POOL.kid


def test_the_authorizer_hands_on_the_claims_as_api_gateway_does() -> None:
    token = POOL.sign_in(VIEWER.email.upper(), VIEWER.password)  # usernames ignore case
    assert token is not None
    for header in (token, f"Bearer {token}", f"bearer  {token} "):
        claims = POOL.authorize(header)
        assert claims is not None
        assert all(isinstance(value, str) for value in claims.values())
        assert claims["sub"] == VIEWER.user_id and claims["cognito:groups"] == "viewer"
        assert claims["email_verified"] == "true"
        assert claims["exp"] == gateway_time(int((START + TOKEN_LIFETIME).timestamp()))
        assert claims["exp"] == "Mon Dec 07 10:00:00 UTC 2026"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (REVIEWER.email, VIEWER.password),  # another user's password
        (REVIEWER.email, REVIEWER.password + " "),
        (REVIEWER.email, ""),
        ("nobody@paygate.local", REVIEWER.password),
    ],
)
def test_a_wrong_password_or_user_gets_nothing(username: str, password: str) -> None:
    assert POOL.sign_in(username, password) is None
    status, _, body = POOL.sign_in_route(
        "POST", json.dumps({"username": username, "password": password or "x"}).encode()
    )
    assert status == 401
    assert json.loads(body)["error"]["field"] == "password"


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"not json", "body"), (b"[]", "body"), (b'{"password": "x"}', "username")],
)
def test_a_malformed_sign_in_is_a_400_naming_the_field(body: bytes, field: str) -> None:
    status, _, answer = POOL.sign_in_route("POST", body)
    assert (status, json.loads(answer)["error"]["field"]) == (400, field)


def test_a_token_stops_working_when_it_expires_on_the_clock() -> None:
    token = POOL.sign_in(REVIEWER.email, REVIEWER.password)
    CLOCK.now = START + TOKEN_LIFETIME - timedelta(seconds=1)
    assert POOL.authorize(token) is not None
    CLOCK.now = START + TOKEN_LIFETIME
    assert POOL.authorize(token) is None


@SETTINGS
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.hex())))
def test_arbitrary_text_never_authenticates(text: str) -> None:
    assert POOL.authorize(text) is None
    assert POOL.authorize(f"Bearer {text}") is None


@SETTINGS
@given(data=st.data())
def test_an_altered_token_never_authenticates(data: st.DataObject) -> None:
    token = POOL.sign_in(REVIEWER.email, REVIEWER.password)
    assert token is not None
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET))
    altered = token[:index] + replacement + token[index + 1 :]
    if altered == token:
        return
    # A base64url string's last character can carry bits the decoder drops: an alteration
    # there that decodes to the same bytes is the same token, not a forgery.
    if _same_bytes(altered, token):
        return
    assert POOL.authorize(altered) is None


def _same_bytes(one: str, other: str) -> bool:
    try:
        return [base64.urlsafe_b64decode(pad(p)) for p in one.split(".")] == [
            base64.urlsafe_b64decode(pad(p)) for p in other.split(".")
        ]
    except ValueError:
        return False


CLAIM_EDITS = st.sampled_from(
    [
        {"cognito:groups": ["reviewer", "admin"]},
        {"sub": "someone-else"},
        {"email": "ceo@merchant.example"},
        {"exp": 4_102_444_800},
        {"aud": "another-client"},
        {"iss": "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_other"},
        {"token_use": "access"},
    ]
)


@SETTINGS
@given(edit=CLAIM_EDITS)
def test_claims_changed_after_signing_never_authenticate(edit: dict[str, Any]) -> None:
    token = POOL.sign_in(VIEWER.email, VIEWER.password)
    assert token is not None
    head, _, signature = token.split(".")
    _, claims, _ = parts(token)
    forged_body = b64(json.dumps({**claims, **edit}).encode())
    assert POOL.authorize(f"{head}.{forged_body}.{signature}") is None


@SETTINGS
@given(edit=CLAIM_EDITS)
def test_tokens_this_pool_did_not_sign_never_authenticate(edit: dict[str, Any]) -> None:
    claims = parts(POOL.sign_in(VIEWER.email, VIEWER.password) or "")[1]
    forged = {**claims, **edit}
    body = b64(json.dumps(forged).encode())
    public_pem = POOL.public_key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    candidates = [
        # unsigned ("alg": "none"), with and without an empty signature
        f"{b64(json.dumps({'alg': 'none', 'kid': POOL.kid}).encode())}.{body}.",
        f"{b64(json.dumps({'alg': 'none'}).encode())}.{body}",
        # HS256 keyed with the pool's public key (the algorithm-confusion attack)
        _hs256({"alg": "HS256", "kid": POOL.kid}, forged, public_pem),
        # another pool's key, under its own kid and under this pool's kid
        OTHER_POOL.sign({"alg": "RS256", "kid": OTHER_POOL.kid}, forged),
        OTHER_POOL.sign({"alg": "RS256", "kid": POOL.kid}, forged),
    ]
    for candidate in candidates:
        assert POOL.authorize(candidate) is None, candidate


def _hs256(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


@SETTINGS
@given(seconds=st.integers(min_value=0, max_value=400 * 86_400))
def test_a_token_is_accepted_exactly_until_its_exp(seconds: int) -> None:
    CLOCK.now = START
    token = POOL.sign_in(REVIEWER.email, REVIEWER.password)
    CLOCK.now = START + timedelta(seconds=seconds)
    valid = seconds < TOKEN_LIFETIME.total_seconds()
    assert (POOL.authorize(token) is not None) is valid


def test_each_operator_has_a_stable_user_id() -> None:
    again = LocalOperator(REVIEWER.email, "other", ("viewer",))
    assert again.user_id == REVIEWER.user_id != VIEWER.user_id
