"""The merchant key the local runtime and the tests use (`PAYGATE_API_KEY`, `local-dev-key` by
default): imported into the template's API keys table as ops/api_keys.py imports a key chosen
elsewhere, so only its SHA-256 is stored and the real authorizer checks it."""

from __future__ import annotations

from local.aws.provision import Provisioned
from paygate import clock
from paygate.api_keys import ALL_SCOPES, Principal, PrincipalKind, Scope, imported_key
from paygate.repository import ApiKeyRepository

TABLE_ID = "ApiKeysTable"


def keys_table(made: Provisioned) -> ApiKeyRepository:
    return ApiKeyRepository(made.refs[TABLE_ID])


def seed_merchant_key(
    made: Provisioned, value: str, scopes: frozenset[Scope] = ALL_SCOPES, label: str = "local"
) -> str:
    """Store `value` as a merchant key with `scopes`; its key id."""
    record = imported_key(value, scopes, label, clock.now())
    keys_table(made).put_api_key(record)
    return record.key_id


def merchant_principal(key_id: str = "bench") -> dict[str, str]:
    """What the key authorizer hands a function for a merchant key with every scope
    (`requestContext.authorizer`), for benches that call handlers directly: API Gateway caches
    the authorizer's answer per key, so a request seldom costs an authorizer call."""
    principal = Principal(kind=PrincipalKind.MERCHANT_KEY, key_id=key_id, scopes=ALL_SCOPES)
    return {**principal.context(), "principalId": principal.principal_id}
