"""Integration tier: the real handlers against moto (tables, topic, queues and secrets built
from template.yaml) and the local Paypro sandbox on 127.0.0.1."""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from local.aws.apigw import (
    FakeLambdaContext,
    authorize,
    find_route,
    gateway_responses,
    proxy_event,
)
from local.aws.aws_calls import acting_as
from local.aws.merchant_keys import TABLE_ID as KEYS_TABLE_ID
from local.aws.provision import Provisioned, load_dev_secrets, provision
from local.aws.template import ApiRoute, load_template
from local.sandboxes.paypro import PayproSandbox, SandboxConfig
from local.sandboxes.platform import PlatformSandbox, PlatformSandboxConfig
from local.sandboxes.smartglocal import SmartglocalSandbox, seeded_sandbox
from paygate import clock as gateway_clock
from paygate.api_keys import ALL_SCOPES, imported_key
from paygate.providers.paypro import signing
from paygate.repository import ApiKeyRepository

DEV_SECRETS = load_dev_secrets()


def _serialize_moto_calls() -> None:
    """One in-process moto call at a time, as the local AWS process does
    (`local.aws.moto_process`): moto's models are not thread-safe, so two threads' transactions
    could both pass a condition DynamoDB evaluates atomically (the concurrent-create tests)."""
    from moto.core.botocore_stubber import BotocoreStubber

    call = BotocoreStubber.__call__
    if getattr(call, "serialized", False):
        return
    lock = threading.Lock()

    def serialized(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return call(self, event_name, request, **kwargs)

    serialized.serialized = True  # type: ignore[attr-defined]
    BotocoreStubber.__call__ = serialized  # type: ignore[method-assign]


_serialize_moto_calls()
# The merchant keys every test's tables hold (every scope): the default caller and two more.
MERCHANT_KEYS = ("test-key", "merchant-a", "merchant-b")
PAYPRO_SECRET = DEV_SECRETS["PayproSecret"]["app_secret"]
WEBHOOK_BASE_URL = "http://127.0.0.1:9"  # nothing listens: notifies are replayed by the tests
# How long the functions wait for a sandbox's answer, and how long a sandbox's `timeout` fault
# holds its answer: generous, so that a sandbox slowed by a busy machine is never taken for a
# timeout, and a fault always outlasts the wait.
PROVIDER_READ_TIMEOUT_SECONDS = 3.0
TIMEOUT_FAULT_SECONDS = PROVIDER_READ_TIMEOUT_SECONDS + 1.0


@pytest.fixture(scope="session")
def paypro_sandbox() -> Iterator[PayproSandbox]:
    config = SandboxConfig(
        merchant_no=DEV_SECRETS["PayproSecret"]["merchant_no"],
        app_secret=PAYPRO_SECRET,
        timeout_delay_seconds=TIMEOUT_FAULT_SECONDS,
        notify_retry_delays=(),
    )
    sandbox = PayproSandbox(config, port=0)
    sandbox.start()
    yield sandbox
    sandbox.stop()


SMARTGLOCAL_TEST_KEY = (
    Path(__file__).resolve().parents[1] / "vectors/smartglocal/private.pem"
).read_text()


@pytest.fixture(scope="session")
def smartglocal_sandbox() -> Iterator[SmartglocalSandbox]:
    """Signs its answers and webhooks with the test-vector key; seeds DEV_SECRETS (our key
    pair, its public key) before any fixture provisions them. Webhooks are kept, not sent:
    the tests replay them through the handler."""
    sandbox = seeded_sandbox(DEV_SECRETS, sandbox_private_key_pem=SMARTGLOCAL_TEST_KEY)
    sandbox.start()
    yield sandbox
    sandbox.stop()


def _platform_sandbox(provider: str) -> Iterator[PlatformSandbox]:
    secret = DEV_SECRETS[f"{provider.capitalize()}Secret"]
    config = PlatformSandboxConfig(
        provider=provider,  # type: ignore[arg-type]
        project_id=int(secret["project_id"]),
        secret_key=secret["secret_key"],
        callback_url=None,  # callbacks are kept; the tests replay them through the handler
        callback_retry_delays=(),
        timeout_delay_seconds=TIMEOUT_FAULT_SECONDS,
    )
    sandbox = PlatformSandbox(config, port=0)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def ecommpay_sandbox() -> Iterator[PlatformSandbox]:
    yield from _platform_sandbox("ecommpay")


@pytest.fixture(scope="session")
def monetix_sandbox() -> Iterator[PlatformSandbox]:
    yield from _platform_sandbox("monetix")


def apply_environment(made: Provisioned, overrides: dict[str, str]) -> None:
    """The functions' environment from template.yaml, then the local overrides."""
    for function in load_template().functions():
        os.environ.update(made.environment(function))
    os.environ.update(overrides)


@pytest.fixture(scope="session")
def local_overrides(
    paypro_sandbox: PayproSandbox,
    smartglocal_sandbox: SmartglocalSandbox,
    ecommpay_sandbox: PlatformSandbox,
    monetix_sandbox: PlatformSandbox,
) -> dict[str, str]:
    return {
        "PAYPRO_BASE_URL": paypro_sandbox.base_url,
        "SMARTGLOCAL_BASE_URL": smartglocal_sandbox.base_url,
        "ECOMMPAY_GATE_URL": ecommpay_sandbox.base_url,
        "ECOMMPAY_PAYMENT_PAGE_URL": f"{ecommpay_sandbox.base_url}/payment",
        "ECOMMPAY_ATM_CHANNEL": "1",
        "MONETIX_GATE_URL": monetix_sandbox.base_url,
        "MONETIX_PAYMENT_PAGE_URL": f"{monetix_sandbox.base_url}/payment",
        "WEBHOOK_BASE_URL": WEBHOOK_BASE_URL,
        "PROVIDER_READ_TIMEOUT": str(PROVIDER_READ_TIMEOUT_SECONDS),
    }


@cache
def _keys_table(table_name: str) -> ApiKeyRepository:
    """One repository, so one boto3 client, for every test's merchant keys: a client made once
    keeps working in every later `mock_aws()` (local/aws/provision.py), and making one was
    most of the cost of seeding three keys before each test."""
    return ApiKeyRepository(table_name)


@pytest.fixture
def aws(local_overrides: dict[str, str]) -> Iterator[Provisioned]:
    """Fresh moto resources from template.yaml, with the functions' environment applied."""
    with mock_aws():
        parameters.clear_caches()
        made = provision(load_template(), DEV_SECRETS)
        apply_environment(made, local_overrides)
        keys = _keys_table(made.refs[KEYS_TABLE_ID])
        for key in MERCHANT_KEYS:  # as local/aws/merchant_keys.py seeds one: stored hashed,
            # checked by the real authorizer (`Api.call`)
            keys.put_api_key(imported_key(key, ALL_SCOPES, "local", gateway_clock.now()))
        yield made
    parameters.clear_caches()


@pytest.fixture(scope="session")
def handlers(local_overrides: dict[str, str]) -> Callable[[str], ModuleType]:
    """Import a handler module (once) after the environment it reads at cold start is set."""
    with mock_aws():
        apply_environment(provision(load_template(), DEV_SECRETS), local_overrides)
    modules: dict[str, ModuleType] = {}

    logical_ids = {f.module: f.logical_id for f in load_template().functions()}

    def load(name: str) -> ModuleType:
        if name not in modules:
            module = importlib.import_module(f"functions.{name}.app")
            module.lambda_handler = as_function(logical_ids[module.__name__], module.lambda_handler)
            modules[name] = module
        return modules[name]

    return load


def as_function(logical_id: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler`, its AWS calls recorded as `logical_id`'s (as the local runtime invokes it)."""

    def invoke(event: dict[str, Any], context: Any) -> Any:
        with acting_as(logical_id):
            return handler(event, context)

    return invoke


# What API Gateway's Cognito authorizer hands a function for a signed-in operator (every value
# a string, `cognito:groups` comma-separated): the operator routes' caller unless a test says
# otherwise (`Api.operator`).
REVIEWER_CLAIMS = {
    "sub": "2f6a3c1e-0000-4000-8000-00000000a11c",
    "email": "alice@merchant.example",
    "cognito:groups": "reviewer",
    "token_use": "id",
}
VIEWER_CLAIMS = {
    "sub": "2f6a3c1e-0000-4000-8000-00000000b0b0",
    "email": "bob@merchant.example",
    "cognito:groups": "viewer",
    "token_use": "id",
}


class Api:
    """Calls handlers with API Gateway proxy events built from the template's routes; an
    operator route (the template's Cognito authorizer) carries `operator`'s claims (None: no
    identity, as a function behind a misconfigured route would see)."""

    def __init__(self, handlers: Callable[[str], ModuleType]) -> None:
        self.handlers = handlers
        self.routes = load_template().routes()
        self.modules = {f.logical_id: f.module.split(".")[1] for f in load_template().functions()}
        self.cognito = load_template().cognito_authorizers()
        self.lambda_authorizers = load_template().lambda_authorizers()
        self.functions = {f.logical_id: f for f in load_template().functions()}
        self.operator: dict[str, str] | None = dict(REVIEWER_CLAIMS)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        auto_idempotency_key: bool = True,
    ) -> dict[str, Any]:
        path, _, query = path.partition("?")
        route, _ = find_route(self.routes, method, path)
        assert route is not None, f"no route {method} {path} in template.yaml"
        headers = dict(headers or {})
        creates = re.fullmatch(r"/v1/[a-z]+/(payments|payouts)", path) and method == "POST"
        given = any(k.lower() == "idempotency-key" for k in headers)
        if creates and auto_idempotency_key and not given:
            headers["Idempotency-Key"] = uuid.uuid4().hex  # every create needs one
        raw = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        raw = raw.encode() if isinstance(raw, str) else raw
        api_key = next((v for k, v in headers.items() if k.lower() == "x-api-key"), None)
        if api_key is None:  # the default merchant key, as a merchant backend sends it
            headers["x-api-key"] = api_key = "test-key"
        event = proxy_event(
            route,
            path,
            method=method,
            body=raw,
            headers=headers,
            query=query,
            api_key=api_key or "test-key",
            claims=self.operator if route.authorizer in self.cognito else None,
        )
        refused = self.authorizer_refusal(route, event)
        if refused is not None:
            return refused
        module = self.handlers(self.modules[route.function_id])
        response: dict[str, Any] = module.lambda_handler(event, FakeLambdaContext("test"))
        return response

    def authorizer_refusal(self, route: ApiRoute, event: dict[str, Any]) -> dict[str, Any] | None:
        """The route's Lambda authorizer (the real function, as API Gateway runs it, no
        cache): None with the principal in `requestContext.authorizer`, or API Gateway's
        refusal (the template's gateway response)."""
        authorizer = self.lambda_authorizers.get(route.authorizer or "")
        if authorizer is None:
            return None
        function = self.functions[authorizer.function_id]
        handler = self.handlers(self.modules[authorizer.function_id]).lambda_handler
        decided = authorize(authorizer, function, handler, event)
        if decided.context is not None:
            event["requestContext"]["authorizer"] = decided.context
            return None
        response = gateway_responses(load_template())[decided.response_type]
        status, headers, body = response.render(
            path=event["path"], method=event["httpMethod"], message="", status=decided.status
        )
        return {"statusCode": status, "headers": headers, "body": body.decode()}

    def answer(self, status: int, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """The JSON answer to a call with a JSON `body`, which must come with `status`."""
        response = self.call(method, path, body, {"content-type": "application/json"})
        assert response["statusCode"] == status, response
        document: dict[str, Any] = body_of(response)
        return document

    def read(self, path: str) -> dict[str, Any]:
        """The JSON answer to `GET path` (whatever its status)."""
        document: dict[str, Any] = body_of(self.call("GET", path))
        return document


@pytest.fixture
def api(handlers: Callable[[str], ModuleType], aws: Provisioned) -> Api:
    return Api(handlers)


def header(response: dict[str, Any], name: str) -> str | None:
    """A response header, from `headers` or `multiValueHeaders` (as Powertools answers)."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower() and values:
            return str(values[0])
    return None


def signed(fields: dict[str, Any], secret: str = PAYPRO_SECRET) -> dict[str, Any]:
    """`fields` with a valid Paypro sign."""
    unsigned = {key: value for key, value in fields.items() if key != "sign"}
    return {**unsigned, "sign": signing.sign(unsigned, secret)}


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def load_event_json(relative: str) -> dict[str, Any]:
    from tests.conftest import load_event

    document: dict[str, Any] = load_event(relative)
    return document


class GatewayTime:
    """The gateway's clock (`paygate.clock`), moved by the test: payments are stamped,
    notifications aged and reconciled on it, as the local runtime's `POST /_local/clock` does."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def later() -> Iterator[GatewayTime]:
    """The gateway's clock for one test, moved by it (`GatewayTime.advance`)."""
    moved = GatewayTime()
    gateway_clock.use(moved)
    yield moved
    gateway_clock.use(None)
