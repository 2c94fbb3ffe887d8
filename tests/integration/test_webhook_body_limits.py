"""Hostile bodies on every webhook route: nested deeper than the limit (32 levels) or larger than
it (64 KiB) are refused before anything parses them, 400 or 413 with an error that names the
limit, never a 500, and with at most one short log line (no traceback)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.aws.provision import Provisioned

from .conftest import Api, body_of

ROUTES = ["ecommpay", "monetix", "paypro", "smartglocal"]
JSON = {"content-type": "application/json"}
SIZE_LIMIT = 64 * 1024
DEPTH_LIMIT = 32
SHORT = 600  # characters in a log line about a refused body


# A top level that carries a signature, so that a reader gets as far as checking it.
SIGNED_TOP = b'{"signature":"x","sign":"x","a":'


def nested_arrays(depth: int) -> bytes:
    """A signed-looking object holding arrays nested to `depth` levels in all."""
    return SIGNED_TOP + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def nested_objects(depth: int) -> bytes:
    """A signed-looking object holding `{"a":{"a":…1…}}`, `depth` objects deep in all."""
    return SIGNED_TOP + b'{"a":' * (depth - 1) + b"1" + b"}" * depth


def log_lines(captured: str) -> list[str]:
    """What the function logged (metric blobs left out)."""
    return [line for line in captured.splitlines() if line.strip() and '"_aws"' not in line]


def post(
    api: Api, route: str, raw: bytes, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], list[str]]:
    capsys.readouterr()
    response = api.call("POST", f"/webhooks/{route}", raw, {**JSON, "X-PARTNER-SIGN": "x"})
    captured = capsys.readouterr()
    return response, log_lines(captured.out) + log_lines(captured.err)


def assert_quiet(lines: list[str]) -> None:
    assert len(lines) <= 1, lines
    assert all(len(line) <= SHORT and "Traceback" not in line for line in lines), lines


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    error: dict[str, Any] = body_of(response)["error"]
    return error


@pytest.mark.parametrize("depth", [9_000, DEPTH_LIMIT + 1], ids=["stack_deep", "just_over"])
@pytest.mark.parametrize("shape", [nested_arrays, nested_objects], ids=["arrays", "objects"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_deeply_nested_body_is_a_400_naming_the_depth_limit(
    api: Api,
    aws: Provisioned,
    capsys: pytest.CaptureFixture[str],
    route: str,
    shape: Any,
    depth: int,
) -> None:
    raw = shape(depth)
    assert len(raw) < SIZE_LIMIT
    response, lines = post(api, route, raw, capsys)
    assert response["statusCode"] == 400, response
    message = error_of(response)["message"]
    assert re.search(r"deep|depth|nest", message) and str(DEPTH_LIMIT) in message, message
    assert_quiet(lines)


@pytest.mark.parametrize("route", ROUTES)
def test_nesting_at_the_limit_is_not_refused_for_depth(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str], route: str
) -> None:
    response, _ = post(api, route, nested_objects(DEPTH_LIMIT), capsys)
    assert response["statusCode"] < 500, response
    if response["statusCode"] == 400:
        assert str(DEPTH_LIMIT) not in error_of(response)["message"], response


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_over_the_size_limit_is_a_413_naming_it(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str], route: str
) -> None:
    padding = SIZE_LIMIT + 1 - len(json.dumps({"payment": {"id": ""}, "signature": "s"}))
    raw = json.dumps({"payment": {"id": "x" * padding}, "signature": "s"}).encode()
    assert len(raw) == SIZE_LIMIT + 1
    response, lines = post(api, route, raw, capsys)
    assert response["statusCode"] == 413, response
    message = error_of(response)["message"]
    assert re.search(r"size|large|bytes", message), message
    assert str(SIZE_LIMIT) in message or "64 KiB" in message, message
    assert_quiet(lines)
    exactly = raw.replace(b"x", b"", 1)
    assert len(exactly) == SIZE_LIMIT
    at_limit, _ = post(api, route, exactly, capsys)
    assert at_limit["statusCode"] != 413, at_limit
