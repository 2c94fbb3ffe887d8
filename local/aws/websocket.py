"""The local API Gateway WebSocket API (the template's `AWS::ApiGatewayV2::Api` of protocol
WEBSOCKET) and its management API, on one port as in AWS (`wss://<api>/<stage>` and
`https://<api>/<stage>/@connections/<id>`), written on the standard library (RFC 6455: the
opening handshake, unfragmented text frames, ping, close; no extensions, no dependency).

- `GET /<stage>` with `Upgrade: websocket`: the `$connect` route's function is invoked with
  the event API Gateway builds (`requestContext.routeKey`, `eventType` CONNECT,
  `connectionId`, query string and headers); a 2xx answer completes the upgrade, any other is
  sent back as the HTTP answer (the browser's WebSocket fails to open).
- The client closing, or `DELETE /<stage>/@connections/<id>`: the `$disconnect` route's
  function gets an event of `eventType` DISCONNECT (its answer is ignored, as in AWS).
- `POST /<stage>/@connections/<id>` (PostToConnection): the body is sent to that connection
  as one text frame; an unknown or closed connection answers 410 `GoneException`.
- A text message from the client is routed by its JSON `action` (the API's route selection
  expression, `$request.body.action`), else to `$default`; with no such route API Gateway's
  "Forbidden" message is sent back. A route with a route response sends the function's
  `body` back as a message. API Gateway's 10-minute idle timeout and 2-hour connection limit
  are not emulated.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from local.aws.apigw import Handler, invoke
from local.aws.template import FunctionDef, Template

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
_FUNCTION_ARN = re.compile(r"\$\{(\w+)\.Arn\}")
_CONNECTIONS = re.compile(r"^/(?P<stage>[^/]+)/@connections/(?P<id>[^/]+)$")
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA
MAX_FRAME_BYTES = 128 * 1024  # API Gateway's message limit


def socket_routes(template: Template) -> dict[str, str]:
    """Route key ($connect, $disconnect, status…) → the logical id of the function its
    integration invokes, from the template's WebSocket API."""
    integrations: dict[str, str] = {}
    for logical_id, spec in template.of_type("AWS::ApiGatewayV2::Integration").items():
        uri = spec["Properties"]["IntegrationUri"]
        text = uri.get("Fn::Sub", "") if isinstance(uri, dict) else str(uri)
        found = _FUNCTION_ARN.search(str(text))
        if found:
            integrations[logical_id] = found.group(1)
    routes = {}
    for spec in template.of_type("AWS::ApiGatewayV2::Route").values():
        props = spec["Properties"]
        target = props.get("Target", {})
        text = target.get("Fn::Sub", "") if isinstance(target, dict) else str(target)
        integration = str(text).removeprefix("integrations/${").removesuffix("}")
        if integration in integrations:
            routes[str(props["RouteKey"])] = integrations[integration]
    return routes


def answered_routes(template: Template) -> set[str]:
    """The route keys whose integration's answer is sent back (they have a route response)."""
    keys = {
        logical_id: str(spec["Properties"]["RouteKey"])
        for logical_id, spec in template.of_type("AWS::ApiGatewayV2::Route").items()
    }
    return {
        keys[spec["Properties"]["RouteId"]["Ref"]]
        for spec in template.of_type("AWS::ApiGatewayV2::RouteResponse").values()
        if spec["Properties"]["RouteId"].get("Ref") in keys
    }


def accept_key(key: str) -> str:
    """`Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`."""
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (a server's)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


def read_frame(stream: Any) -> tuple[int, bytes] | None:
    """(opcode, payload) of the next frame from `stream` (masked or not), None at its end."""
    head = stream.read(2)
    if len(head) < 2:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length in (126, 127):
        size = 2 if length == 126 else 8
        extended = stream.read(size)
        if len(extended) < size:
            return None
        (length,) = struct.unpack("!H" if size == 2 else "!Q", extended)
    if length > MAX_FRAME_BYTES:
        return None
    mask = stream.read(4) if head[1] & 0x80 else b""
    payload = stream.read(length)
    if len(mask) not in (0, 4) or (head[1] & 0x80 and not mask) or len(payload) < length:
        return None  # the stream ended inside the frame
    if mask:
        payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return opcode, payload


@dataclass
class Connection:
    connection_id: str
    sock: socket.socket
    stage: str
    connected_at: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: bool = True

    def send(self, opcode: int, payload: bytes) -> bool:
        with self.lock:
            if not self.open:
                return False
            try:
                self.sock.sendall(frame(opcode, payload))
                return True
            except OSError:
                self.open = False
                return False


class LocalWebSocketApi:
    """The WebSocket API on `host:port` (0: any free port), invoking `functions`' handlers."""

    def __init__(
        self,
        template: Template,
        functions: dict[str, tuple[FunctionDef, Handler]],
        host: str,
        port: int,
        stage: str = "local",
    ) -> None:
        self.routes = socket_routes(template)
        self.answered = answered_routes(template)
        self.functions = functions
        self.stage = stage
        self.connections: dict[str, Connection] = {}
        self._lock = threading.Lock()
        self.posts = 0  # PostToConnection calls answered 200 (the tests' and bench's count)
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                api.handle(self)

            do_POST = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                sys.stderr.write(f"[ws] {self.command} {self.path.split('?')[0]}\n")

        self.host = host
        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """The WebSocket URL browsers connect to (`wss://…/<stage>` in AWS)."""
        return f"ws://{self.host}:{self.port}/{self.stage}"

    @property
    def management_endpoint(self) -> str:
        """What the publisher's `WEBSOCKET_ENDPOINT` is (`https://…/<stage>` in AWS)."""
        return f"http://{self.host}:{self.port}/{self.stage}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        with self._lock:
            open_connections = list(self.connections.values())
        for connection in open_connections:
            connection.send(OP_CLOSE, struct.pack("!H", 1001))
            self._drop(connection, 1001, "Going away")
        self.server.shutdown()
        self.server.server_close()

    # ---- the routes' events ---------------------------------------------------------------

    def _event(
        self, route: str, connection_id: str, request: BaseHTTPRequestHandler | None, **extra: Any
    ) -> dict[str, Any]:
        now = time.time()
        context = {
            "routeKey": route,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "connectionId": connection_id,
            "extendedRequestId": uuid.uuid4().hex,
            "requestId": uuid.uuid4().hex,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": extra.pop("connected_at", int(now * 1000)),
            "domainName": f"{self.host}:{self.port}",
            "apiId": "local",
            "identity": {"sourceIp": request.client_address[0] if request else "127.0.0.1"},
            **extra,
        }
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
        if request is not None:
            url = urlsplit(request.path)
            query = parse_qs(url.query, keep_blank_values=True)
            event["headers"] = dict(request.headers.items())
            event["multiValueHeaders"] = {k: request.headers.get_all(k) for k in request.headers}
            event["queryStringParameters"] = {k: v[-1] for k, v in query.items()} or None
            event["multiValueQueryStringParameters"] = query or None
        return event

    def _invoke(self, route: str, event: dict[str, Any]) -> dict[str, Any] | None:
        function_id = self.routes.get(route)
        if function_id is None:
            return {"statusCode": 200}  # no route: API Gateway lets the connection through
        function, handler = self.functions[function_id]
        try:
            answer = invoke(function, handler, event)
        except Exception as exc:  # a crashed integration is a 502 from API Gateway
            sys.stderr.write(f"[ws] {function.logical_id} crashed: {exc!r}\n")
            return None
        return dict(answer or {})

    # ---- HTTP ------------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        managed = _CONNECTIONS.match(url.path)
        if managed is not None:
            self._manage(request, unquote(managed.group("id")))
            return
        upgrade = (request.headers.get("Upgrade") or "").lower() == "websocket"
        if request.command != "GET" or not upgrade or url.path.rstrip("/") != f"/{self.stage}":
            self._reply(request, 403, {"message": "Forbidden"})
            return
        self._connect(request)

    def _connect(self, request: BaseHTTPRequestHandler) -> None:
        key = request.headers.get("Sec-WebSocket-Key") or ""
        if not key:
            self._reply(request, 400, {"message": "Sec-WebSocket-Key is missing"})
            return
        connection_id = base64.b64encode(secrets.token_bytes(12)).decode()
        connected_at = int(time.time() * 1000)
        answer = self._invoke(
            "$connect", self._event("$connect", connection_id, request, connected_at=connected_at)
        )
        status = int(answer.get("statusCode", 200)) if answer is not None else 502
        if not 200 <= status < 300:
            body = (answer or {}).get("body") or json.dumps({"message": "Internal server error"})
            self._reply(request, status, body)
            return
        request.send_response(101, "Switching Protocols")
        request.send_header("Upgrade", "websocket")
        request.send_header("Connection", "Upgrade")
        request.send_header("Sec-WebSocket-Accept", accept_key(key))
        request.end_headers()
        request.wfile.flush()
        connection = Connection(connection_id, request.connection, self.stage, connected_at)
        with self._lock:
            self.connections[connection_id] = connection
        self._serve(request, connection)
        request.close_connection = True

    def _serve(self, request: BaseHTTPRequestHandler, connection: Connection) -> None:
        """Read the client's frames until it closes (or the socket ends)."""
        code, reason = 1006, "Connection ended"
        while connection.open:
            try:
                received = read_frame(request.rfile)
            except OSError:
                received = None
            if received is None:
                break
            opcode, payload = received
            if opcode == OP_TEXT:
                self._message(request, connection, payload)
            elif opcode == OP_PING:
                connection.send(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                # `$disconnect` has run when the client gets the closing handshake's answer
                self._drop(connection, code, "Client closed", echo=payload[:2])
                return
        self._drop(connection, code, reason)

    def _message(
        self, request: BaseHTTPRequestHandler, connection: Connection, payload: bytes
    ) -> None:
        """Route one message from the client; send the answer back when the route has a
        route response."""
        try:
            action = json.loads(payload).get("action")
        except (ValueError, AttributeError):
            action = None
        route = action if isinstance(action, str) and action in self.routes else "$default"
        if route not in self.routes:
            refusal = {"message": "Forbidden", "connectionId": connection.connection_id}
            connection.send(OP_TEXT, json.dumps(refusal).encode())
            return
        event = self._event(route, connection.connection_id, None)
        event["requestContext"]["connectedAt"] = connection.connected_at
        event["body"] = payload.decode("utf-8", "replace")
        answer = self._invoke(route, event)
        if route in self.answered:
            body = (answer or {}).get("body") or json.dumps({"message": "Internal server error"})
            connection.send(OP_TEXT, str(body).encode())

    def _drop(self, connection: Connection, code: int, reason: str, echo: bytes = b"") -> None:
        """Forget `connection` and run `$disconnect`; then answer a client's close with
        `echo` (its status code) and end the socket."""
        with self._lock:
            known = self.connections.pop(connection.connection_id, None)
        if known is None:
            return
        event = self._event(
            "$disconnect",
            connection.connection_id,
            None,
            connected_at=connection.connected_at,
            disconnectStatusCode=code,
            disconnectReason=reason,
        )
        self._invoke("$disconnect", event)
        if echo:
            connection.send(OP_CLOSE, echo)
        with connection.lock:
            connection.open = False
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_RDWR)

    def _manage(self, request: BaseHTTPRequestHandler, connection_id: str) -> None:
        """PostToConnection, DeleteConnection, GetConnection."""
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        with self._lock:
            connection = self.connections.get(connection_id)
        if connection is None or not connection.open:
            self._reply(request, 410, {"message": None}, {"x-amzn-ErrorType": "GoneException"})
            return
        if request.command == "POST":
            if len(body) > MAX_FRAME_BYTES:
                self._reply(request, 413, {"message": "Message too long"})
                return
            if not connection.send(OP_TEXT, body):
                self._reply(request, 410, {"message": None}, {"x-amzn-ErrorType": "GoneException"})
                return
            with self._lock:
                self.posts += 1
            self._reply(request, 200, b"")
        elif request.command == "DELETE":
            connection.send(OP_CLOSE, struct.pack("!H", 1000))
            self._drop(connection, 1000, "Deleted by the management API")
            self._reply(request, 204, b"")
        else:
            identity = {"sourceIp": "127.0.0.1"}
            connected = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(connection.connected_at / 1000)
            )
            self._reply(request, 200, {"connectedAt": connected, "identity": identity})

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = (
            body
            if isinstance(body, bytes)
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(raw)
