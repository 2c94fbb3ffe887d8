"""Merchant keys and client secrets over HTTP on the local runtime: keys issued and revoked
with `ops/api_keys.py`, checked by the real authorizer the front door runs as API Gateway
does (its answers cached per key for the template's TTL, on the simulated clock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx

from .conftest import ROOT, Runtime, created

ORDER = {"amount": 50000, "currency": "VND", "merchant_reference": "e2e-keys"}
CACHE_SECONDS = 300  # template.yaml: MerchantKeyAuthorizer's ReauthorizeEvery


def api_keys(runtime: Runtime, *args: str) -> list[str]:
    """`python -m ops.api_keys --local ...` against the runtime's moto: its output lines."""
    port = str(urlsplit(runtime.moto_url).port)
    env = {**os.environ, "PAYGATE_MOTO_PORT": port, "PYTHONPATH": f"{ROOT}:{ROOT}/layers/core"}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "ops.api_keys", "--local", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()


def issue(runtime: Runtime, *scopes: str) -> tuple[str, str]:
    """A new key with `scopes`: (key id, key)."""
    flags = [arg for scope in scopes for arg in ("--scope", scope)]
    first, key, _ = api_keys(runtime, "issue", *flags, "--label", "e2e")
    return json.loads(first)["key_id"], key


def send(runtime: Runtime, method: str, path: str, key: str, body: Any = None) -> httpx.Response:
    headers = {"x-api-key": key, "Idempotency-Key": os.urandom(8).hex()}
    return httpx.request(method, f"{runtime.api_url}{path}", json=body, headers=headers, timeout=30)


def refused(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == (code, "x-api-key")
    return str(error["message"])


def test_a_key_without_the_scope_is_a_403_naming_it(runtime: Runtime) -> None:
    _, reader = issue(runtime, "payments:read")
    message = refused(
        send(runtime, "POST", "/v1/paypro/payments", reader, ORDER), 403, "missing_scope"
    )
    assert "payments:write" in message
    payment = created(runtime, "/v1/paypro/payments", ORDER)
    read = send(runtime, "GET", f"/v1/payments/{payment['id']}", reader)
    assert read.status_code == 200 and read.json()["client_secret"] == payment["client_secret"]


def test_a_revoked_key_stops_within_the_authorizer_cache(runtime: Runtime) -> None:
    key_id, key = issue(runtime, "payments:write")
    assert send(runtime, "POST", "/v1/paypro/payments", key, ORDER).status_code == 201
    assert api_keys(runtime, "revoke", key_id) == [json.dumps({"key_id": key_id, "revoked": True})]
    listed = [json.loads(line) for line in api_keys(runtime, "list")]
    assert next(k for k in listed if k["key_id"] == key_id)["revoked_at"]
    assert all(key not in json.dumps(k) and "secret_sha256" not in k for k in listed)
    # API Gateway still holds the authorizer's Allow for this key: at most CACHE_SECONDS.
    assert send(runtime, "POST", "/v1/paypro/payments", key, ORDER).status_code == 201
    runtime.advance(CACHE_SECONDS + 1)
    message = refused(
        send(runtime, "POST", "/v1/paypro/payments", key, ORDER), 403, "invalid_api_key"
    )
    assert "revoked" in message and "x-api-key header" in message


def test_a_client_secret_reads_its_payment_and_nothing_else(runtime: Runtime) -> None:
    mine = created(runtime, "/v1/paypro/payments", ORDER)
    other = created(runtime, "/v1/paypro/payments", ORDER)
    secret = mine["client_secret"]
    read = send(runtime, "GET", f"/v1/payments/{mine['id']}", secret)
    assert read.status_code == 200 and read.json()["id"] == mine["id"]
    assert read.json()["client_secret"] is None
    # Its own confirm reaches the handler (a Paypro payment has nothing to confirm: 409).
    assert send(runtime, "POST", f"/v1/payments/{mine['id']}/confirm", secret).status_code == 409
    for method, action in (("GET", ""), ("POST", "/confirm"), ("POST", "/cancel")):
        answer = send(runtime, method, f"/v1/payments/{other['id']}{action}", secret)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
    message = refused(
        send(runtime, "POST", "/v1/paypro/payments", secret, ORDER),
        403,
        "client_secret_not_allowed",
    )
    assert "merchant API key" in message
    forged = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    refused(send(runtime, "GET", f"/v1/payments/{mine['id']}", forged), 403, "invalid_api_key")
    published = runtime.events_for(mine["id"], 2)  # created, requires_action
    assert secret not in json.dumps(published) and secret.rsplit("_", 1)[1] not in str(published)
