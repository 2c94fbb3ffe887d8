"""API Gateway's own answers come from template.yaml's gateway responses, and the local front
door renders those same entries: an unknown route is a 404 naming it, a missing key a 401 and
a refused one a 403, both naming `x-api-key`, throttling a 429 with Retry-After; all in the
API's one error shape."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.aws.apigw import CONTEXT_VARIABLES, gateway_responses
from local.aws.frontdoor import FrontDoor
from local.aws.template import Template, load_template
from paygate.api_errors import ErrorResponse

TEMPLATE = load_template()
RESPONSES = gateway_responses(TEMPLATE)
JSON_UTF8 = "application/json; charset=utf-8"


@pytest.fixture
def door() -> Iterator[FrontDoor]:
    """A front door that is never started (its server only binds a free port)."""
    front = FrontDoor([], {}, "key", "127.0.0.1", 0)
    yield front
    front.server.server_close()


def answer(door: FrontDoor, response_type: str, method: str, path: str) -> Any:
    default = 502 if response_type == "DEFAULT_5XX" else 403
    status, headers, body = door.gateway_response(response_type, default, method, path)
    document = json.loads(body)
    ErrorResponse.model_validate(document)  # the one error shape
    return status, headers, document["error"]


def test_an_unknown_route_is_a_404_naming_it_and_the_docs(door: FrontDoor) -> None:
    status, headers, error = answer(door, "MISSING_AUTHENTICATION_TOKEN", "POST", "/v1/momo/x")
    assert (status, headers["Content-Type"]) == (404, JSON_UTF8)
    assert (error["code"], error["field"]) == ("route_not_found", "path")
    assert error["message"].startswith("no route POST /v1/momo/x: ")
    assert "openapi.json" in error["message"] and "/docs" in error["message"]


def test_a_refused_key_is_a_403_naming_the_header(door: FrontDoor) -> None:
    status, headers, error = answer(door, "ACCESS_DENIED", "GET", "/v1/payments/x")
    assert (status, headers["Content-Type"]) == (403, JSON_UTF8)
    assert (error["code"], error["field"]) == ("invalid_api_key", "x-api-key")
    assert "x-api-key header" in error["message"] and "revoked" in error["message"]


def test_a_missing_key_is_a_401_naming_the_header(door: FrontDoor) -> None:
    status, _, error = answer(door, "UNAUTHORIZED", "GET", "/v1/payments/x")
    assert status == 401
    assert "send your merchant API key" in error["message"] and "x-api-key" in error["message"]


def test_an_authorizer_that_cannot_decide_is_a_503_to_retry(door: FrontDoor) -> None:
    status, headers, error = answer(door, "AUTHORIZER_FAILURE", "GET", "/v1/payments/x")
    assert (status, headers["Retry-After"], error["field"]) == (503, "1", "x-api-key")


@pytest.mark.parametrize(("response_type", "retry_after"), [("THROTTLED", "1")])
def test_throttling_is_a_429_with_retry_after(
    door: FrontDoor, response_type: str, retry_after: str
) -> None:
    status, headers, error = answer(door, response_type, "POST", "/v1/paypro/payments")
    assert (status, headers["Retry-After"]) == (429, retry_after)
    assert "Retry-After" in error["message"]


def test_other_errors_keep_their_status_and_api_gateway_message(door: FrontDoor) -> None:
    status, _, error = answer(door, "REQUEST_TOO_LARGE", "POST", "/v1/paypro/payments")
    assert (status, error) == (403, {"code": "bad_request", "message": "Request Too Long"})
    status, _, error = answer(door, "DEFAULT_5XX", "GET", "/")
    assert (status, error) == (502, {"code": "internal_error", "message": "Internal server error"})


@pytest.mark.parametrize("path", ['/a"b', "/a\\b", "/đơn\n", "/$context.path"])
def test_any_path_renders_valid_json(door: FrontDoor, path: str) -> None:
    _, _, error = answer(door, "MISSING_AUTHENTICATION_TOKEN", "GET", path)
    assert error["message"].startswith(f"no route GET {path}: ")


def test_every_template_entry_is_one_the_front_door_renders_exactly() -> None:
    assert set(RESPONSES) >= {
        "MISSING_AUTHENTICATION_TOKEN", "ACCESS_DENIED", "UNAUTHORIZED", "AUTHORIZER_FAILURE",
        "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX",
    }  # fmt: skip
    for response in RESPONSES.values():
        assert response.headers["Content-Type"] == JSON_UTF8
        status, _, body = response.render(path="/p", method="GET", message="m", status=400)
        assert status == (response.status or 400)
        ErrorResponse.model_validate_json(body)
    assert set(CONTEXT_VARIABLES) >= {"$context.path", "$context.httpMethod"}


def edited(change: Any) -> Template:
    document = copy.deepcopy(TEMPLATE.document)
    api = document["Resources"]["PaygateApi"]["Properties"]
    change(api["GatewayResponses"])
    return Template(document)


def test_the_front_door_follows_an_edited_template() -> None:
    def to_410(responses: dict[str, Any]) -> None:
        responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] = "410"

    front = FrontDoor([], {}, "k", "127.0.0.1", 0, responses=gateway_responses(edited(to_410)))
    try:
        assert front.gateway_response("MISSING_AUTHENTICATION_TOKEN", 403, "GET", "/x")[0] == 410
    finally:
        front.server.server_close()


@pytest.mark.parametrize(
    ("header", "template"),
    [
        ("method.request.header.x-api-key", None),  # a request value: not rendered locally
        ("'application/json'", '{"error": {"code": "x", "message": "$context.identity.sourceIp"}}'),
    ],
)
def test_what_the_front_door_cannot_render_is_refused_at_load(
    header: str, template: str | None
) -> None:
    def change(responses: dict[str, Any]) -> None:
        entry = responses["ACCESS_DENIED"]
        entry["ResponseParameters"]["Headers"]["Content-Type"] = header
        if template:
            entry["ResponseTemplates"]["application/json"] = template

    with pytest.raises(ValueError, match="ACCESS_DENIED"):
        gateway_responses(edited(change))
