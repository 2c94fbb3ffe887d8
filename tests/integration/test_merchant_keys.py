"""Who may call a merchant route, through the real key authorizer and handlers: a refused or
missing `x-api-key` is a 401/403 naming the header, a key without the route's scope a 403
naming the scope, and a payment's client secret reads, confirms and cancels that payment
only (another payment is a 404, any other route a 403). The client secret is in the create's
and a merchant read's answer, and nowhere in the tables."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest

from local.aws.merchant_keys import keys_table
from local.aws.provision import Provisioned
from local.sandboxes.smartglocal import SmartglocalSandbox
from paygate import clock
from paygate.api_keys import Scope, new_key

from .conftest import Api, body_of
from .smartglocal_support import JSON, create, deliver_next

PAYPRO_ORDER = {"amount": 50000, "currency": "VND", "merchant_reference": "keys-1"}


def issue(aws: Provisioned, *scopes: Scope) -> str:
    key, record = new_key(frozenset(scopes), "test", clock.now())
    keys_table(aws).put_api_key(record)
    return key


def call(api: Api, method: str, path: str, key: str, body: Any = None) -> dict[str, Any]:
    return api.call(method, path, body, {**JSON, "x-api-key": key})


def error(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response
    found: dict[str, Any] = body_of(response)["error"]
    assert found["field"] == "x-api-key"
    return found


def held(api: Api, sandbox: SmartglocalSandbox) -> dict[str, Any]:
    """A manual Smart Glocal payment waiting in requires_confirmation (as created)."""
    payment = create(api, confirmation="manual")
    deliver_next(api, sandbox, payment["provider_reference"], "ready_to_confirm")
    return payment


def test_a_missing_key_is_a_401_and_an_unknown_one_a_403_naming_the_header(api: Api) -> None:
    missing = call(api, "GET", "/v1/payments/pay_x", "")  # API Gateway's answer: no call
    assert missing["statusCode"] == 401  # the response shared with the operator routes
    assert "x-api-key header" in body_of(missing)["error"]["message"]
    for wrong in ("wrong-key", "pgk_aaaaaaaaaaaa_" + "A" * 43, "x" * 300, "pay_x_secret_y"):
        refused = error(call(api, "POST", "/v1/paypro/payments", wrong, PAYPRO_ORDER), 403)
        assert refused["code"] == "invalid_api_key" and "x-api-key header" in refused["message"]


def test_a_revoked_key_is_refused_from_then_on(api: Api, aws: Provisioned) -> None:
    key = issue(aws, Scope.PAYMENTS_WRITE)
    assert call(api, "POST", "/v1/paypro/payments", key, PAYPRO_ORDER)["statusCode"] == 201
    assert keys_table(aws).revoke_api_key(key.split("_")[1], clock.now())
    refused = error(call(api, "POST", "/v1/paypro/payments", key, PAYPRO_ORDER), 403)
    assert "revoked" in refused["message"]
    assert not keys_table(aws).revoke_api_key("nosuchkey000", clock.now())


def test_a_key_without_the_routes_scope_is_a_403_naming_it(api: Api, aws: Provisioned) -> None:
    reader = issue(aws, Scope.PAYMENTS_READ)
    refused = error(call(api, "POST", "/v1/paypro/payments", reader, PAYPRO_ORDER), 403)
    assert refused["code"] == "missing_scope" and "payments:write" in refused["message"]
    created = body_of(api.call("POST", "/v1/paypro/payments", PAYPRO_ORDER, JSON))
    assert call(api, "GET", f"/v1/payments/{created['id']}", reader)["statusCode"] == 200
    confirm = call(api, "POST", f"/v1/payments/{created['id']}/confirm", reader)
    assert error(confirm, 403)["code"] == "missing_scope"
    payout = {"amount": 60000, "currency": "VND", "merchant_reference": "po-1"}
    refused = error(call(api, "POST", "/v1/paypro/payouts", reader, payout), 403)
    assert "payouts:write" in refused["message"]
    writer = issue(aws, Scope.PAYMENTS_WRITE)
    read = error(call(api, "GET", f"/v1/payments/{created['id']}", writer), 403)
    assert "payments:read" in read["message"]
    assert call(api, "GET", "/v1/ecommpay/banks", writer)["statusCode"] == 403
    assert call(api, "GET", "/v1/ecommpay/banks", issue(aws, Scope.PAYOUTS_WRITE))[
        "statusCode"
    ] in (200, 502)  # the bank list: either scope (502: the sandbox has no live list)


def test_a_client_secret_reads_and_confirms_its_own_payment(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = held(api, smartglocal_sandbox)
    secret = payment["client_secret"]
    assert secret.startswith(f"{payment['id']}_secret_")
    read = call(api, "GET", f"/v1/payments/{payment['id']}", secret)
    assert read["statusCode"] == 200
    assert body_of(read)["status"] == "requires_confirmation"
    assert body_of(read)["client_secret"] is None  # handed out once, to the merchant
    by_key = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert by_key["client_secret"] == secret  # the same secret, on the merchant's read
    confirmed = call(api, "POST", f"/v1/payments/{payment['id']}/confirm", secret)
    assert confirmed["statusCode"] == 200, confirmed


def test_a_client_secret_cancels_its_own_payment(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = held(api, smartglocal_sandbox)
    cancelled = call(api, "POST", f"/v1/payments/{payment['id']}/cancel", payment["client_secret"])
    assert (cancelled["statusCode"], body_of(cancelled)["status"]) == (200, "cancelled")


def test_a_client_secret_gets_404_for_another_payment_and_403_elsewhere(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    mine, other = held(api, smartglocal_sandbox), held(api, smartglocal_sandbox)
    secret = mine["client_secret"]
    for method, action in (("GET", ""), ("POST", "/confirm"), ("POST", "/cancel")):
        answer = call(api, method, f"/v1/payments/{other['id']}{action}", secret)
        assert answer["statusCode"] == 404, answer
        assert body_of(answer)["error"]["code"] == "not_found"
        assert other["id"] in body_of(answer)["error"]["message"]  # as for an unknown id
    unknown = call(api, "GET", "/v1/payments/pay_unknown", secret)
    assert body_of(unknown) == body_of(api.call("GET", "/v1/payments/pay_unknown"))
    elsewhere = [
        ("POST", "/v1/paypro/payments", PAYPRO_ORDER),
        ("POST", f"/v1/payments/{mine['id']}/clarification", {"fields": {"x": "y"}}),
        ("GET", "/v1/ecommpay/banks", None),
        ("GET", "/v1/paypro/balance", None),
    ]
    for method, path, body in elsewhere:
        refused = error(call(api, method, path, secret, body), 403)
        assert refused["code"] == "client_secret_not_allowed", path
    assert body_of(api.call("GET", f"/v1/payments/{other['id']}"))["status"] == (
        "requires_confirmation"  # nothing the secret tried changed the other payment
    )


def test_a_create_answers_the_client_secret_also_on_a_replay_and_stores_it_nowhere(
    api: Api, aws: Provisioned
) -> None:
    headers = {**JSON, "Idempotency-Key": "secret-replay"}
    first = body_of(api.call("POST", "/v1/paypro/payments", PAYPRO_ORDER, headers))
    replay = body_of(api.call("POST", "/v1/paypro/payments", PAYPRO_ORDER, headers))
    assert first["client_secret"] and replay["client_secret"] == first["client_secret"]
    dynamodb = boto3.client("dynamodb")
    for table in ("PaymentsTable", "IdempotencyTable", "ApiKeysTable"):
        items = dynamodb.scan(TableName=aws.refs[table])["Items"]
        assert items and first["client_secret"] not in json.dumps(items, default=str), table
        assert first["client_secret"].rsplit("_", 1)[1] not in json.dumps(items, default=str)


@pytest.mark.parametrize("path", ["/v1/payouts/po_x", "/v1/payments/po_x/timeline"])
def test_the_operator_routes_are_not_the_key_authorizers(api: Api, path: str) -> None:
    """Their authorizer is the operators' user pool: a merchant key does not reach them."""
    route = next(r for r in api.routes if r.pattern.match(path) and r.method == "GET")
    assert route.authorizer not in api.lambda_authorizers


def test_a_client_secret_key_that_cannot_be_read_is_a_503_and_the_retry_replays(
    api: Api, aws: Provisioned
) -> None:
    secrets = boto3.client("secretsmanager")
    name = aws.refs["ClientSecretKey"]
    kept = secrets.get_secret_value(SecretId=name)["SecretString"]
    secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    headers = {**JSON, "Idempotency-Key": "secret-unreadable"}
    busy = api.call("POST", "/v1/paypro/payments", PAYPRO_ORDER, headers)
    assert busy["statusCode"] == 503, busy
    error = body_of(busy)["error"]
    assert error["code"] == "storage_busy" and error["payment_id"] in error["message"]
    secrets.create_secret(Name=name, SecretString=kept)
    replay = api.call("POST", "/v1/paypro/payments", PAYPRO_ORDER, headers)
    assert replay["statusCode"] == 200, replay  # the kept 201, with its secret now
    assert body_of(replay)["id"] == error["payment_id"] and body_of(replay)["client_secret"]


def test_an_imported_key_works_with_the_scopes_it_was_given(
    api: Api, aws: Provisioned, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ops/api_keys.py import`: a key chosen elsewhere (a usage-plan key moved over), read
    from standard input and stored hashed."""
    from ops import api_keys as ops_keys

    moved = "UsagePlanKey0123456789abcdefABCDEF"
    monkeypatch.setattr("sys.stdin", io.StringIO(moved + "\n"))
    table = aws.refs["ApiKeysTable"]
    assert ops_keys.main(["--table", table, "import", "--scope", "payments:read"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["scopes"] == ["payments:read"]
    assert moved not in json.dumps(boto3.client("dynamodb").scan(TableName=table)["Items"])
    refused = error(call(api, "POST", "/v1/paypro/payments", moved, PAYPRO_ORDER), 403)
    assert refused["code"] == "missing_scope"
    assert call(api, "GET", "/v1/payments/pay_unknown", moved)["statusCode"] == 404
    assert ops_keys.main(["--table", table, "revoke", stored["key_id"]]) == 0
    assert error(call(api, "GET", "/v1/payments/pay_unknown", moved), 403)["code"] == (
        "invalid_api_key"
    )
