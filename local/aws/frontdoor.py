"""The local API Gateway: maps the template's API events to the same handler functions with
real REST proxy events, enforcing the API key on routes that require one; API Gateway's own
answers (unknown route, missing or wrong key) are the template's gateway responses."""

from __future__ import annotations

import base64
import hmac
import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from local.aws.apigw import (
    AuthorizerCache,
    GatewayResponse,
    Handler,
    authorize,
    find_route,
    gateway_responses,
    invoke,
    proxy_event,
)
from local.aws.template import ApiRoute, FunctionDef, load_template
from local.aws.throttle import Throttle
from paygate import clock as gateway_clock

if TYPE_CHECKING:
    from local.aws.cognito import LocalUserPool

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# (method, body) → (status, content type, body): local-only routes such as /_local/clock
LocalRoute = Callable[[str, bytes], tuple[int, str, bytes]]
# (method, path, query, body, headers) → (status, content type, body, headers), or None
SiteHandler = Callable[
    [str, str, str, bytes, dict[str, str]], tuple[int, str, bytes, dict[str, str]] | None
]


# API Gateway's message of each response type (`$context.error.messageString`).
_DEFAULT_MESSAGES = {
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "INVALID_API_KEY": "Forbidden",
    "UNAUTHORIZED": "Unauthorized",
    "THROTTLED": "Too Many Requests",
    "QUOTA_EXCEEDED": "Limit Exceeded",
    "REQUEST_TOO_LARGE": "Request Too Long",
}


class FrontDoor:
    def __init__(
        self,
        routes: list[ApiRoute],
        functions: dict[str, tuple[FunctionDef, Handler]],
        api_key: str,
        host: str,
        port: int,
        extra_routes: dict[str, Any] | None = None,
        site: SiteHandler | None = None,
        local_routes: dict[str, LocalRoute] | None = None,
        responses: dict[str, GatewayResponse] | None = None,
        throttle: Throttle | None = None,
        operators: LocalUserPool | None = None,
    ) -> None:
        self.routes = routes
        # The user pool behind the template's Cognito authorizers (None: every token refused).
        self.operators = operators
        self.cognito_authorizers = load_template().cognito_authorizers()
        self.throttle = throttle  # API Gateway's stage throttle, when asked for
        # The template's Lambda authorizers, run as API Gateway runs them, answers cached on
        # the gateway's clock (the simulated one under make run).
        self.lambda_authorizers = load_template().lambda_authorizers()
        self.authorizer_cache = AuthorizerCache(lambda: gateway_clock.now().timestamp())
        self.responses = gateway_responses(load_template()) if responses is None else responses
        self.functions = functions
        self.api_key = api_key
        self.extra_routes = extra_routes or {}  # GET only, no body
        self.local_routes = local_routes or {}  # any method, with the body
        self.site = (
            site  # non-API paths (checkout page, merchant proxy, docs): local/merchant/site.py
        )
        door = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes

            def do_GET(self) -> None:
                door.handle(self)

            def __getattr__(self, name: str) -> Any:
                # Every method (POST, HEAD, TRACE, any other) reaches the routing, which
                # answers unknown ones with a 4xx as API Gateway does.
                if name.startswith("do_"):
                    return self.do_GET
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                sys.stderr.write(
                    f"[api] {self.command} {self.path} {args[1] if len(args) > 1 else ''}\n"
                )

        ThreadingHTTPServer.request_queue_size = 128  # many concurrent clients (default: 5)
        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.gateway_answer(request, "REQUEST_TOO_LARGE", 413, url.path)
            return
        body = request.rfile.read(length) if length else b""
        if self.site is not None:
            headers_in = {key: value for key, value in request.headers.items()}
            served = self.site(request.command, url.path, url.query, body, headers_in)
            if served is not None:
                self._send_raw(request, *served)
                return
        local = self.local_routes.get(url.path)
        if local is not None:
            self._send_raw(request, *local(request.command, body))
            return
        extra = self.extra_routes.get(url.path)
        if extra is not None and request.command == "GET":
            status, content_type, payload = extra()
            self._send_raw(request, status, content_type, payload)
            return
        route, _ = find_route(self.routes, request.command, url.path)
        if route is None:
            # A REST API answers an unknown path, or a known one with another method, as a
            # missing authentication token.
            self.gateway_answer(request, "MISSING_AUTHENTICATION_TOKEN", 403, url.path)
            return
        given_key = request.headers.get("x-api-key") or ""
        if route.api_key_required and not hmac.compare_digest(given_key, self.api_key):
            self.gateway_answer(request, "INVALID_API_KEY", 403, url.path)
            return
        claims = self.operator_claims(route, request.headers.get("Authorization"))
        if route.authorizer in self.cognito_authorizers and claims is None:
            self.gateway_answer(request, "UNAUTHORIZED", 401, url.path)
            return
        if self.throttle is not None and not self.throttle.take(f"{route.method} {route.path}"):
            self.gateway_answer(request, "THROTTLED", 429, url.path)
            return
        headers = {key: value for key, value in request.headers.items()}
        event = proxy_event(
            route,
            url.path,
            method=request.command,
            body=body,
            headers=headers,
            query=url.query,
            domain=request.headers.get("Host", "127.0.0.1"),
            api_key=given_key or None,
            claims=claims,
        )
        function, handler = self.functions[route.function_id]
        try:
            # A refusal of the route's Lambda authorizer is answered instead of the function.
            result = self.authorizer_refusal(route, event) or invoke(function, handler, event)
        except Exception as exc:  # a crash is a 502 from API Gateway, as in AWS
            sys.stderr.write(f"[api] handler {function.logical_id} crashed: {exc!r}\n")
            self.gateway_answer(request, "DEFAULT_5XX", 502, url.path)
            return
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        response_headers = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            response_headers.setdefault(key, values[-1])
        content_type = response_headers.pop("Content-Type", "application/json")
        self._send_raw(
            request, int(result.get("statusCode", 200)), content_type, raw, response_headers
        )

    def operator_claims(self, route: ApiRoute, authorization: str | None) -> dict[str, str] | None:
        """The Cognito authorizer of a route that has one: the token's claims as API Gateway
        hands them on, or None (401: missing, malformed, forged or expired)."""
        if route.authorizer not in self.cognito_authorizers or self.operators is None:
            return None
        return self.operators.authorize(authorization)

    def authorizer_refusal(self, route: ApiRoute, event: dict[str, Any]) -> dict[str, Any] | None:
        """The route's Lambda authorizer, if it has one: None with the principal put in the
        event's `requestContext.authorizer`, or its refusal (401/403/5xx) as API Gateway's
        gateway response, in the proxy answer's shape."""
        authorizer = self.lambda_authorizers.get(route.authorizer or "")
        if authorizer is None:
            return None
        function, handler = self.functions[authorizer.function_id]
        decided = authorize(authorizer, function, handler, event, self.authorizer_cache)
        if decided.context is not None:
            event["requestContext"]["authorizer"] = decided.context
            return None
        method, path = event["httpMethod"], event["path"]
        status, headers, body = self.gateway_response(
            decided.response_type, decided.status, method, path
        )
        return {"statusCode": status, "headers": headers, "body": body.decode()}

    def gateway_answer(
        self, request: BaseHTTPRequestHandler, response_type: str, status: int, path: str
    ) -> None:
        """API Gateway's answer of `response_type` (default `status`, e.g. 403), shaped by the
        template's gateway response of that type or else its DEFAULT_4XX/5XX."""
        status, headers, body = self.gateway_response(response_type, status, request.command, path)
        content_type = headers.pop("Content-Type", "application/json")
        self._send_raw(request, status, content_type, body, headers)

    def gateway_response(
        self, response_type: str, status: int, method: str, path: str
    ) -> tuple[int, dict[str, str], bytes]:
        default = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        response = self.responses.get(response_type) or self.responses.get(default)
        message = _DEFAULT_MESSAGES.get(response_type, "Internal server error")
        if response is None:  # no gateway responses at all: API Gateway's own answer
            body = json.dumps({"message": message}).encode()
            return status, {"Content-Type": "application/json"}, body
        return response.render(path=path, method=method, message=message, status=status)

    @staticmethod
    def _send_raw(
        request: BaseHTTPRequestHandler,
        status: int,
        content_type: str,
        body: bytes,
        headers: dict[str, Any] | None = None,
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            if key.lower() not in ("content-length", "content-type"):
                request.send_header(key, str(value))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
