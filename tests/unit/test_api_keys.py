"""Merchant keys and the key authorizer (`paygate.api_keys`, `paygate.authorizer`): only a
stored key's exact text or a valid client secret is ever allowed, whatever the header holds;
a revoked key is refused; the authorizer answers API Gateway with a policy, never an error."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from local.aws.apigw import FakeLambdaContext
from paygate import authorizer as key_authorizer
from paygate import client_secrets
from paygate.api_keys import (
    ALL_SCOPES,
    REVOKED,
    ApiKeyRecord,
    Authorizer,
    Principal,
    PrincipalKind,
    Scope,
    imported_key,
    key_id_of,
    new_key,
)
from paygate.client_secrets import ClientSecretKey

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SECRET_KEY = ClientSecretKey(key=SecretStr("unit-client-secret-key"))
ISSUED, ISSUED_RECORD = new_key(frozenset({Scope.PAYMENTS_READ}), "reader", NOW)
IMPORTED = "local-dev-key"
REVOKED_KEY, REVOKED_RECORD = new_key(ALL_SCOPES, "old", NOW)
PAYMENT = "pay_20261201000000a1b2c3d4e5"


class Keys:
    def __init__(self, *records: ApiKeyRecord) -> None:
        self.records = {record.key_id: record for record in records}

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        return self.records.get(key_id)


KEYS = Keys(
    ISSUED_RECORD,
    imported_key(IMPORTED, ALL_SCOPES, "local", NOW),
    REVOKED_RECORD.model_copy(update={"revoked_at": NOW}),
)
AUTHORIZER = Authorizer(KEYS, lambda: SECRET_KEY)
VALID = {ISSUED, IMPORTED, client_secrets.issue(PAYMENT, SECRET_KEY)}


def test_an_issued_key_is_found_by_its_id_and_stored_only_as_a_hash() -> None:
    assert ISSUED.startswith("pgk_") and len(ISSUED) == 4 + 12 + 1 + 43
    assert key_id_of(ISSUED) == ISSUED_RECORD.key_id
    stored = ISSUED_RECORD.model_dump_json()
    assert ISSUED not in stored and ISSUED.rsplit("_", 1)[1] not in stored
    assert new_key(ALL_SCOPES, "x", NOW)[0] != new_key(ALL_SCOPES, "x", NOW)[0]


def test_keys_and_client_secrets_become_principals() -> None:
    reader = AUTHORIZER.decide(ISSUED)
    assert reader == Principal(
        kind=PrincipalKind.MERCHANT_KEY,
        key_id=ISSUED_RECORD.key_id,
        scopes=frozenset({Scope.PAYMENTS_READ}),
    )
    local = AUTHORIZER.decide(IMPORTED)
    assert isinstance(local, Principal) and local.scopes == ALL_SCOPES
    shopper = AUTHORIZER.decide(client_secrets.issue(PAYMENT, SECRET_KEY))
    assert shopper == Principal(kind=PrincipalKind.CLIENT_SECRET, payment_id=PAYMENT)


def test_a_revoked_key_a_near_miss_and_a_foreign_secret_are_refused() -> None:
    assert AUTHORIZER.decide(REVOKED_KEY) == REVOKED
    assert AUTHORIZER.decide(ISSUED[:-1] + ("A" if ISSUED[-1] != "A" else "B")) is None
    other = ClientSecretKey(key=SecretStr("another-key"))
    assert AUTHORIZER.decide(client_secrets.issue(PAYMENT, other)) is None
    assert AUTHORIZER.decide(None) is None and AUTHORIZER.decide("") is None


def test_the_principal_survives_api_gateways_string_context() -> None:
    for presented in VALID:
        principal = AUTHORIZER.decide(presented)
        assert isinstance(principal, Principal)
        context = principal.context()
        assert all(isinstance(value, str) for value in context.values())
        assert Principal.from_context({**context, "principalId": "x"}) == principal
    assert Principal.from_context({}) is None
    assert Principal.from_context({"kind": "operator", "scopes": "payments:write"}) is None


def _near(valid: str) -> st.SearchStrategy[str]:
    """Strings one edit away from a valid value (the attacker's closest guesses)."""
    index = st.integers(0, len(valid) - 1)
    char = st.sampled_from(string.printable)
    return st.one_of(
        st.builds(lambda i, c: valid[:i] + c + valid[i + 1 :], index, char),
        st.builds(lambda i, c: valid[:i] + c + valid[i:], index, char),
        st.builds(lambda i: valid[:i] + valid[i + 1 :], index),
        st.builds(lambda s: valid + s, st.text(min_size=1, max_size=8)),
    )


HEADERS = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"pgk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}", fullmatch=True),
    st.from_regex(r"pay_[a-z0-9]{10,30}_secret_[A-Za-z0-9_-]{43}", fullmatch=True),
    *(_near(valid) for valid in sorted(VALID)),
)


@settings(max_examples=400, deadline=None)
@given(HEADERS)
def test_no_header_value_but_a_valid_one_is_ever_allowed(header: str) -> None:
    decision = AUTHORIZER.decide(header)
    if header not in VALID:
        assert not isinstance(decision, Principal), header


def _request(header: Any) -> dict[str, Any]:
    arn = "arn:aws:execute-api:ap-southeast-1:123456789012:abc123/prod/GET/v1/payments/x"
    headers = {} if header is None else {"x-api-key": header}
    return {"type": "REQUEST", "methodArn": arn, "headers": headers, "httpMethod": "GET"}


HANDLER = key_authorizer.handler(AUTHORIZER)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), HEADERS))
def test_the_authorizer_answers_every_header_with_a_policy(header: str | None) -> None:
    """Never an exception (API Gateway would answer 500): Allow only for a valid value, with
    the principal as context; Deny otherwise (API Gateway's 403 naming x-api-key)."""
    context: Any = FakeLambdaContext("AuthorizeKeyFunction")  # what Powertools reads of one
    answer = HANDLER(_request(header), context)
    (statement,) = answer["policyDocument"]["Statement"]
    assert statement["Resource"] == [
        "arn:aws:execute-api:ap-southeast-1:123456789012:abc123/prod/*/*"
    ]
    if header in VALID:
        assert statement["Effect"] == "Allow"
        assert Principal.from_context(answer["context"]) == AUTHORIZER.decide(header)
    else:
        assert statement["Effect"] == "Deny" and "context" not in answer
