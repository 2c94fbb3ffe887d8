"""API Gateway REST (v1) proxy events and Lambda contexts, as the real service builds them."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from local.aws.aws_calls import acting_as
from local.aws.template import ApiRoute, FunctionDef, LambdaAuthorizer, Template

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    timeout_seconds: float = 25.0  # the function's `Timeout`: what an invocation starts with

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:ap-southeast-1:123456789012:function:{self.function_name}"
        )
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_seconds * 1000)


def load_handler(function: FunctionDef) -> Handler:
    module = importlib.import_module(function.module)
    handler: Handler = getattr(module, function.attribute)
    return handler


# One invocation at a time per function, as in one Lambda execution environment: a handler
# module's state (its resolver's current event, metrics) is never used by two at once.
# Functions share the layer's Logger here (one process), so log lines may carry another
# function's context keys when two functions run at the same moment.
_LOCKS: dict[str, threading.Lock] = defaultdict(threading.Lock)


def invoke(function: FunctionDef, handler: Handler, event: dict[str, Any]) -> Any:
    """One invocation, as `function` (its AWS calls are recorded as that function's)."""
    with _LOCKS[function.logical_id], acting_as(function.logical_id):
        return handler(event, FakeLambdaContext(function_name=function.logical_id))


def local_api_key_id(api_key: str) -> str:
    """The id API Gateway would give the key (`identity.apiKeyId`): stable, not the key."""
    return "local-" + hashlib.sha256(api_key.encode()).hexdigest()[:10]


def proxy_event(
    route: ApiRoute,
    path: str,
    *,
    method: str | None = None,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    query: str = "",
    stage: str = "local",
    domain: str = "127.0.0.1:3000",
    api_key: str | None = None,
    claims: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The REST API proxy event for `path` on `route` (binary bodies base64-encoded); `claims`:
    what a Cognito authorizer let through (`requestContext.authorizer.claims`)."""
    match = route.pattern.match(path)
    path_parameters = match.groupdict() if match else {}
    headers = dict(headers or {})
    query_values = parse_qs(query, keep_blank_values=True)
    text: str | None = None
    is_base64 = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "resource": route.path,
        "path": path,
        "httpMethod": method or route.method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query_values.items()} or None,
        "multiValueQueryStringParameters": query_values or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method or route.method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "domainName": domain,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "123456789012",
            "apiId": "paygatelocal",
            "protocol": "HTTP/1.1",
            "identity": {
                "sourceIp": "127.0.0.1",
                "apiKey": api_key,
                "apiKeyId": local_api_key_id(api_key) if api_key else None,
                "userAgent": headers.get("User-Agent", headers.get("user-agent", "")),
            },
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {"claims": dict(claims)}
    return event


def find_route(routes: list[ApiRoute], method: str, path: str) -> tuple[ApiRoute | None, bool]:
    """The route for `method path`, and whether the path exists under another method."""
    path_known = False
    for route in routes:
        if route.pattern.match(path):
            path_known = True
            if route.method == method:
                return route, True
    return None, path_known


# -- gateway responses: API Gateway's own answers (no function runs) ---------------------------

# The $context variables the template's gateway responses may use, and how each is rendered.
# API Gateway substitutes them as they are; here each value is escaped for a JSON string, so an
# odd path cannot break the JSON (`$context.error.messageString` is already a quoted string).
_CONTEXT_VARIABLE = re.compile(r"\$context\.[A-Za-z.]+")
CONTEXT_VARIABLES = (
    "$context.path",
    "$context.httpMethod",
    "$context.requestId",
    "$context.error.messageString",
)


@dataclass(frozen=True)
class GatewayResponse:
    """One `GatewayResponses` entry of the template's API: its status (None: the status of the
    error it answers), static headers and `application/json` template."""

    response_type: str
    status: int | None
    headers: dict[str, str]
    template: str

    def render(
        self, *, path: str, method: str, message: str, request_id: str = "", status: int = 0
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) as API Gateway answers with this response."""
        values = {
            "$context.path": _json_text(path),
            "$context.httpMethod": _json_text(method),
            "$context.requestId": _json_text(request_id or str(uuid.uuid4())),
            "$context.error.messageString": json.dumps(message),
        }
        body = _CONTEXT_VARIABLE.sub(lambda found: values[found.group(0)], self.template)
        return self.status or status, dict(self.headers), body.encode()


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def gateway_responses(template: Template) -> dict[str, GatewayResponse]:
    """The `GatewayResponses` of the template's one REST API, by response type. Only what the
    local front door can render exactly is accepted: static header values ('...') and the
    $context variables of `CONTEXT_VARIABLES`."""
    (api,) = template.of_type("AWS::Serverless::Api").values()
    found = {}
    for response_type, spec in api["Properties"].get("GatewayResponses", {}).items():
        headers = {}
        for name, value in spec.get("ResponseParameters", {}).get("Headers", {}).items():
            if not (isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'"):
                raise ValueError(f"{response_type}: header {name} is not a static '...' value")
            headers[name] = value[1:-1]
        text = spec.get("ResponseTemplates", {}).get("application/json", "")
        unknown = set(_CONTEXT_VARIABLE.findall(text)) - set(CONTEXT_VARIABLES)
        if unknown:
            raise ValueError(f"{response_type}: the local front door cannot render {unknown}")
        status = spec.get("StatusCode")
        found[response_type] = GatewayResponse(
            response_type, int(status) if status else None, headers, text
        )
    return found


# -- Lambda REQUEST authorizers: the template's function, invoked as API Gateway does -----------


@dataclass(frozen=True)
class Authorization:
    """What a Lambda authorizer decided for one request: `context` for
    `requestContext.authorizer` when allowed, else the gateway response type and status."""

    context: dict[str, Any] | None
    response_type: str = ""
    status: int = 200


def authorizer_event(
    authorizer: LambdaAuthorizer, event: Mapping[str, Any], api_id: str = "paygatelocal"
) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway builds from a proxy `event`."""
    context = event["requestContext"]
    method_arn = (
        f"arn:aws:execute-api:ap-southeast-1:{context['accountId']}:{api_id}/{context['stage']}/"
        f"{event['httpMethod']}{event['path']}"
    )
    keys = ("resource", "path", "httpMethod", "headers", "multiValueHeaders")
    more = ("queryStringParameters", "multiValueQueryStringParameters", "pathParameters")
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        **{key: event[key] for key in (*keys, *more, "stageVariables")},
        "requestContext": dict(context),
    }


def _identity(authorizer: LambdaAuthorizer, headers: Mapping[str, str]) -> tuple[str, ...] | None:
    lowered = {key.lower(): value for key, value in headers.items()}
    values = tuple(lowered.get(name, "") for name in authorizer.headers)
    return None if not all(values) else values


def _allows(policy: Mapping[str, Any], method_arn: str) -> bool:
    """IAM's answer for `execute-api:Invoke` on `method_arn`: an explicit Deny wins, then an
    Allow (`*` in a resource matches any characters)."""
    allowed = False
    for statement in policy.get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        pattern = "|".join(".*".join(map(re.escape, r.split("*"))) for r in resources)
        if not pattern or re.fullmatch(pattern, method_arn) is None:
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


class AuthorizerCache:
    """API Gateway's cache of authorizer answers: per authorizer and identity (the header
    values), for the authorizer's TTL on `clock` (the gateway's clock: simulated locally)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._answers: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, name: str, identity: tuple[str, ...]) -> dict[str, Any] | None:
        with self._lock:
            kept = self._answers.get((name, identity))
            return kept[1] if kept and kept[0] > self.clock() else None

    def put(self, name: str, identity: tuple[str, ...], answer: dict[str, Any], ttl: int) -> None:
        if ttl > 0:
            with self._lock:
                self._answers[(name, identity)] = (self.clock() + ttl, answer)


def authorize(
    authorizer: LambdaAuthorizer,
    function: FunctionDef,
    handler: Handler,
    event: dict[str, Any],
    cache: AuthorizerCache | None = None,
) -> Authorization:
    """Run `authorizer` for the proxy `event` as API Gateway does: no identity header → 401
    without a call; the function's answer (cached) → its policy decides (Deny → 403
    ACCESS_DENIED), its context goes to `requestContext.authorizer`; an `Unauthorized` raise
    → 401; any other failure → AUTHORIZER_FAILURE (500 unless the template says otherwise)."""
    identity = _identity(authorizer, event.get("headers") or {})
    if identity is None:
        return Authorization(None, "UNAUTHORIZED", 401)
    request = authorizer_event(authorizer, event)
    answer = cache.get(authorizer.name, identity) if cache is not None else None
    if answer is None:
        try:
            answer = dict(invoke(function, handler, request))
        except Exception as exc:  # API Gateway reads the raised message: Unauthorized is a 401
            if str(exc) == "Unauthorized":
                return Authorization(None, "UNAUTHORIZED", 401)
            return Authorization(None, "AUTHORIZER_FAILURE", 500)
        if cache is not None:
            cache.put(authorizer.name, identity, answer, authorizer.ttl_seconds)
    if not _allows(answer.get("policyDocument") or {}, request["methodArn"]):
        return Authorization(None, "ACCESS_DENIED", 403)
    context = {str(k): v for k, v in (answer.get("context") or {}).items()}
    return Authorization({**context, "principalId": str(answer.get("principalId", ""))})
