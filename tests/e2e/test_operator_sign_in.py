"""Operators sign in, over HTTP against the local runtime: the front door puts the template's
Cognito authorizer in front of the operator routes (lists, payout reads, timelines, reviews).
Without a valid ID token each is API Gateway's 401 (the template's UNAUTHORIZED gateway
response), the merchant's API key included; a viewer reads and gets 403 on a review; a
reviewer's decision is recorded with the person (user id, email) and the time, on the payment,
its timeline and its event. Tokens come from the local sign-in route, as the console gets them;
an expired one is refused once the local clock passes its `exp`."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from local.config import LocalConfig

from .conftest import Runtime
from .test_merchant_operations import paid_another_amount

OPERATOR_ROUTES = [
    ("GET", "/v1/payments"),
    ("GET", "/v1/payouts"),
    ("GET", "/v1/payouts/po_20261201000000abcdef0123"),
    ("GET", "/v1/payments/pay_20261201000000abcdef0123/timeline"),
    ("GET", "/v1/payouts/po_20261201000000abcdef0123/timeline"),
    ("POST", "/v1/payments/pay_20261201000000abcdef0123/review"),
    ("POST", "/v1/payouts/po_20261201000000abcdef0123/review"),
]
VIEWER, REVIEWER = LocalConfig().operators
DECISION = {"decision": "accept", "note": "checked with Monetix"}


def send(runtime: Runtime, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = DECISION if method == "POST" else None
    key = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
    return httpx.request(
        method, f"{runtime.api_url}{path}", json=body, headers={**headers, **key}, timeout=10
    )


def refused(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("unauthorized", "Authorization")


@pytest.mark.parametrize(("method", "path"), OPERATOR_ROUTES)
def test_every_operator_route_without_a_valid_token_is_a_401(
    runtime: Runtime, method: str, path: str
) -> None:
    token = runtime.operator_token("reviewer")
    for headers in (
        {},
        {"x-api-key": runtime.api_key},  # the merchant's key is no operator
        {"Authorization": runtime.api_key},
        {"Authorization": f"Bearer {runtime.api_key}"},
        {"Authorization": token[:-2] + ("AA" if not token.endswith("AA") else "BB")},
        {"Authorization": "Bearer x"},
    ):
        refused(send(runtime, method, path, headers))


def test_the_merchant_key_cannot_review(runtime: Runtime) -> None:
    payment = paid_another_amount(runtime)
    with runtime.client() as merchant:
        answer = merchant.post(
            f"/v1/payments/{payment['id']}/review",
            json=DECISION,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        refused(answer)
        assert merchant.get(f"/v1/payments/{payment['id']}").json()["status"] == "needs_review"


def test_a_viewer_reads_and_may_not_decide(runtime: Runtime) -> None:
    payment = paid_another_amount(runtime)
    with runtime.operator("viewer") as viewer:
        listed = viewer.get(
            "/v1/payments", params={"merchant_reference": payment["merchant_reference"]}
        )
        assert [p["id"] for p in listed.json()["data"]] == [payment["id"]]
        assert viewer.get(f"/v1/payments/{payment['id']}/timeline").status_code == 200
        assert viewer.get("/v1/payouts").status_code == 200
        answer = viewer.post(
            f"/v1/payments/{payment['id']}/review",
            json=DECISION,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == "forbidden" and "'reviewer'" in error["message"]
    with runtime.client() as merchant:
        assert merchant.get(f"/v1/payments/{payment['id']}").json()["status"] == "needs_review"


def test_a_reviewer_s_decision_names_the_person_and_the_time(runtime: Runtime) -> None:
    payment = paid_another_amount(runtime)
    with runtime.operator("reviewer") as reviewer:
        answer = reviewer.post(
            f"/v1/payments/{payment['id']}/review",
            json=DECISION,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert answer.status_code == 200, answer.text
        review: dict[str, Any] = answer.json()["review"]
        last = reviewer.get(f"/v1/payments/{payment['id']}/timeline").json()["entries"][-1]
    assert (review["reviewed_by"], review["reviewed_by_email"]) == (
        REVIEWER.user_id,
        REVIEWER.email,
    )
    assert review["reviewed_at"][:16] == runtime.now().isoformat()[:16]  # the local clock
    assert (last["actor"], last["actor_email"], last["at"]) == (
        REVIEWER.user_id,
        REVIEWER.email,
        review["reviewed_at"],
    )
    event = runtime.events_for(payment["id"], 5)[-1]
    assert event["review"]["reviewed_by_email"] == REVIEWER.email


def test_a_token_expires_on_the_local_clock(runtime: Runtime) -> None:
    token = runtime.operator_token("viewer")
    headers = {"Authorization": f"Bearer {token}"}
    assert send(runtime, "GET", "/v1/payouts", headers).status_code == 200
    runtime.advance(3600)  # the ID token's lifetime (template: IdTokenValidity 60 minutes)
    refused(send(runtime, "GET", "/v1/payouts", headers))
    fresh = runtime.operator_token("viewer")
    assert send(runtime, "GET", "/v1/payouts", {"Authorization": fresh}).status_code == 200


def test_a_wrong_password_gets_no_token(runtime: Runtime) -> None:
    answer = httpx.post(
        f"{runtime.api_url}/_local/cognito/sign-in",
        json={"username": REVIEWER.email, "password": VIEWER.password},
        timeout=10,
    )
    assert answer.status_code == 401
    assert "id_token" not in answer.json()
    jwks = httpx.get(f"{runtime.api_url}/_local/cognito/.well-known/jwks.json", timeout=10)
    assert [key["alg"] for key in jwks.json()["keys"]] == ["RS256"]
