"""Who may call a merchant route: the one check every merchant route shape makes
(`paygate.routes`), on the principal the API's Lambda authorizer put in the request
(`paygate.api_keys.Principal`), and the per-payment client secrets the API hands out.

- A merchant key needs one of the route's scopes: otherwise 403 naming the scope.
- A client secret may read, confirm or cancel its own payment (`own_payment`): another
  payment is a 404 (its existence is not revealed), any other route a 403.
- No principal at all (a route deployed without the authorizer) is a 401."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from paygate.api_keys import HEADER, Principal, PrincipalKind, Scope
from paygate.errors import Forbidden, NotAuthenticated, PaymentNotFound, StorageBusy


def principal_of(event: Any) -> Principal:
    """The caller of a Powertools API Gateway event (`app.current_event`)."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    principal = Principal.from_context(context)
    if principal is None:
        raise NotAuthenticated(
            f"send your merchant API key (or a payment's client secret) in the {HEADER} header"
        )
    return principal


def require(event: Any, scopes: Iterable[Scope], *, own_payment: str | None = None) -> Principal:
    """The caller, when it may call this route: a merchant key with one of `scopes`, or, for
    a route about payment `own_payment` that client secrets may use, that payment's secret."""
    principal = principal_of(event)
    wanted = tuple(scopes)
    if principal.kind is PrincipalKind.CLIENT_SECRET:
        if own_payment is None:
            raise Forbidden(
                "a client secret may only read, confirm or cancel its own payment: call this "
                f"route from your server with your merchant API key in {HEADER}",
                code="client_secret_not_allowed",
            )
        if principal.payment_id != own_payment:
            raise PaymentNotFound(f"no payment with id {own_payment}", field="id")
        return principal
    if not principal.scopes & set(wanted):
        names = " or ".join(scope.value for scope in wanted)
        raise Forbidden(
            f"the API key in {HEADER} lacks the scope {names} this route needs: use a key "
            f"issued with it (python -m ops.api_keys issue --scope {wanted[0].value})",
            code="missing_scope",
        )
    return principal


@cache
def _secret_id() -> str:
    from paygate.settings import ClientSecretSettings, load_settings

    return load_settings(ClientSecretSettings).client_secret_key_id


def client_secret(payment_id: str) -> str:
    """The client secret of `payment_id` (its HMAC key from Secrets Manager, cached). A key
    that cannot be read is a `StorageBusy` naming the payment (503 with Retry-After: a
    create's retry with the same Idempotency-Key replays it, with its secret)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    from paygate import client_secrets
    from paygate.credentials import load_credentials

    try:
        key = load_credentials(_secret_id(), client_secrets.ClientSecretKey)
    except GetParameterError as exc:
        busy = StorageBusy(
            f"payment {payment_id} is recorded, but its client secret could not be made just "
            "now: retry (a create with the same Idempotency-Key)"
        )
        busy.payment_id = payment_id
        raise busy from exc
    return client_secrets.issue(payment_id, key)
