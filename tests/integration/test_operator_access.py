"""Operators on the operator routes, the handlers as API Gateway's Cognito authorizer calls
them: the claims a signed-in operator's ID token carries, or none. A viewer reads; only a
reviewer decides, and the decision is recorded with the person (user id, email) and the
time; a function that sees no operator refuses rather than acting for nobody."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from local.aws.template import load_template
from paygate.domain import Cause, Kind, Payment, PaymentStatus, StatusChange
from paygate.repository import PaymentRepository

from .conftest import REVIEWER_CLAIMS, VIEWER_CLAIMS, Api, GatewayTime, body_of
from .test_merchant_operations import START, repository, stored

# The operator routes (template.yaml: Auth.Authorizer OperatorAuthorizer) and a request each.
READS = [
    ("GET", "/v1/payments"),
    ("GET", "/v1/payouts"),
    ("GET", "/v1/payouts/{payout}"),
    ("GET", "/v1/payments/{payment}/timeline"),
    ("GET", "/v1/payouts/{payout}/timeline"),
]
REVIEWS = [("POST", "/v1/payments/{payment}/review"), ("POST", "/v1/payouts/{payout}/review")]
JSON = {"content-type": "application/json"}


def held(api: Api, aws: Any) -> dict[str, Payment]:
    return {
        "payment": stored(aws, 1, status=PaymentStatus.NEEDS_REVIEW),
        "payout": stored(aws, 2, kind=Kind.PAYOUT, status=PaymentStatus.NEEDS_REVIEW),
    }


def call(api: Api, method: str, template: str, ids: dict[str, Payment]) -> dict[str, Any]:
    path = template.format(**{name: payment.id for name, payment in ids.items()})
    if method == "POST":
        headers = {**JSON, "Idempotency-Key": uuid.uuid4().hex}
        return api.call(method, path, {"decision": "accept", "note": "checked"}, headers)
    return api.call(method, path)


def test_the_template_puts_exactly_these_routes_behind_the_operator_authorizer() -> None:
    template = load_template()
    assert template.cognito_authorizers() == {"OperatorAuthorizer"}
    behind = {(r.method, r.path) for r in template.routes() if r.authorizer == "OperatorAuthorizer"}
    generic = {"{payment}": "{id}", "{payout}": "{id}"}
    expected = set()
    for method, path in READS + REVIEWS:
        for name, value in generic.items():
            path = path.replace(name, value)
        expected.add((method, path))
    assert behind == expected
    # None of them also takes the merchant's API key.
    assert not any(r.api_key_required for r in template.routes() if r.authorizer)


@pytest.mark.parametrize(("method", "path"), READS + REVIEWS)
def test_no_operator_is_a_401_naming_the_header(api: Api, aws: Any, method: str, path: str) -> None:
    ids = held(api, aws)
    api.operator = None
    response = call(api, method, path, ids)
    assert response["statusCode"] == 401, response
    error = body_of(response)["error"]
    assert (error["code"], error["field"]) == ("not_signed_in", "Authorization")
    assert "Authorization" in error["message"]
    for payment in ids.values():  # nothing was decided
        assert repository(aws).get(payment.id).status is PaymentStatus.NEEDS_REVIEW  # type: ignore[union-attr]


@pytest.mark.parametrize(("method", "path"), READS)
def test_a_viewer_reads(api: Api, aws: Any, method: str, path: str) -> None:
    ids = held(api, aws)
    api.operator = dict(VIEWER_CLAIMS)
    response = call(api, method, path, ids)
    assert response["statusCode"] == 200, response


@pytest.mark.parametrize(("method", "path"), REVIEWS)
def test_a_viewer_s_review_is_a_403_naming_the_group(
    api: Api, aws: Any, method: str, path: str
) -> None:
    ids = held(api, aws)
    api.operator = dict(VIEWER_CLAIMS)
    response = call(api, method, path, ids)
    assert response["statusCode"] == 403, response
    error = body_of(response)["error"]
    assert error["code"] == "forbidden" and "'reviewer'" in error["message"]
    assert VIEWER_CLAIMS["email"] in error["message"]
    for payment in ids.values():
        assert repository(aws).get(payment.id).status is PaymentStatus.NEEDS_REVIEW  # type: ignore[union-attr]


@pytest.mark.parametrize("groups", ["", "admins", "viewers", "[viewer]", "reviewer-x"])
def test_only_the_reviewer_group_itself_may_decide(api: Api, aws: Any, groups: str) -> None:
    ids = held(api, aws)
    api.operator = {**REVIEWER_CLAIMS, "cognito:groups": groups}
    assert call(api, *REVIEWS[0], ids)["statusCode"] == 403


@pytest.mark.parametrize("groups", ["reviewer", "viewer,reviewer", "[viewer reviewer]"])
def test_api_gateway_s_renderings_of_the_groups_claim_are_read(
    api: Api, aws: Any, groups: str
) -> None:
    ids = held(api, aws)
    api.operator = {**REVIEWER_CLAIMS, "cognito:groups": groups}
    assert call(api, *REVIEWS[0], ids)["statusCode"] == 200


@pytest.mark.parametrize("kind", ["payment", "payout"])
def test_a_reviewer_s_decision_records_the_person_and_the_time(
    api: Api, aws: Any, later: GatewayTime, kind: str
) -> None:
    ids = held(api, aws)
    plural = f"{kind}s"
    target = ids[kind]
    later.advance(days=3)  # the review's time is the gateway's clock
    now = later()
    response = call(api, "POST", f"/v1/{plural}/{{{kind}}}/review", ids)
    assert response["statusCode"] == 200, response
    review = body_of(response)["review"]
    assert review["reviewed_by"] == REVIEWER_CLAIMS["sub"]
    assert review["reviewed_by_email"] == REVIEWER_CLAIMS["email"]
    at = review["reviewed_at"]
    assert abs(datetime.fromisoformat(at) - now) < timedelta(seconds=1)
    # The same on the API's read and on the timeline.
    read = api.read(f"/v1/payouts/{target.id}") if kind == "payout" else None
    if read is not None:
        assert read["review"] == review
    last = api.read(f"/v1/{plural}/{target.id}/timeline")["entries"][-1]
    assert (last["cause"], last["actor"], last["actor_email"], last["at"]) == (
        "merchant_action",
        REVIEWER_CLAIMS["sub"],
        REVIEWER_CLAIMS["email"],
        at,
    )


def test_a_review_stored_before_operators_signed_in_still_reads(api: Api, aws: Any) -> None:
    """Items written with the API key's id as `reviewed_by` and no email keep reading."""
    created = START + timedelta(minutes=9)
    payment = Payment.model_validate(
        {
            **stored(aws, 9).model_dump(),
            "id": f"pay_{created:%Y%m%d%H%M%S}{uuid.uuid4().hex[:10]}",
            "review": {
                "decision": "accept",
                "note": "old",
                "reviewed_by": "local-0123456789",
                "reviewed_at": created.isoformat(),
            },
            "history": [
                StatusChange(to=PaymentStatus.CREATED, at=created, cause=Cause.CREATE),
                StatusChange(
                    to=PaymentStatus.SUCCEEDED,
                    at=created,
                    cause=Cause.MERCHANT_ACTION,
                    actor="local-0123456789",
                ),
            ],
        }
    )
    PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1)).create(payment)
    last = api.read(f"/v1/payments/{payment.id}/timeline")["entries"][-1]
    assert (last["actor"], last.get("actor_email")) == ("local-0123456789", None)
