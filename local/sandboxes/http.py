"""The HTTP plumbing every provider sandbox shares: replies, routing by regex, bounded request
bodies, and a server that binds without a reverse-DNS lookup."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl, unquote, urlsplit

MAX_BODY_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"
SEND_JSON = "send the body as JSON with the header 'Content-Type: application/json'"


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


class HttpError(Exception):
    """Abort the request with this reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class DropConnection(Exception):
    """Close the connection without any answer (an accepted request whose answer never
    arrives)."""


def compact(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def json_reply(status: int, document: Any) -> Reply:
    return Reply(status, compact(document))


def redirect(location: str) -> Reply:
    return Reply(303, b"", "text/plain", (("Location", location),))


Route = tuple[str, str, Callable[[str], Reply]]


class SandboxServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a request that sleeps on purpose

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: Any
    ) -> None:
        self.sandbox = sandbox
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse-DNS lookup of the host (slow offline)."""
        TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)


class RoutedHandler(BaseHTTPRequestHandler):
    """Dispatches to `routes()` (method, full-match regex with at most one group, action)."""

    timeout = 30  # seconds a silent client may hold a thread

    @property
    def sandbox(self) -> Any:
        return cast(SandboxServer, self.server).sandbox

    def do_GET(self) -> None:
        self._started = time.monotonic()
        self.dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    # -- what a sandbox provides ---------------------------------------------------------------

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def error(self, status: int, message: str) -> HttpError:
        """The sandbox's own error answer for plumbing failures (bad body, no route)."""
        return HttpError(json_reply(status, {"error": message}))

    def crash_reply(self, path: str) -> Reply:
        return json_reply(500, {"error": "internal error"})

    # -- plumbing ------------------------------------------------------------------------------

    def dispatch(self) -> None:
        path = urlsplit(self.path).path
        try:
            reply = self.route(path)
        except DropConnection:
            self.close_connection = True
            return
        except HttpError as exc:
            reply = exc.reply
        except Exception:
            traceback.print_exc(file=sys.stderr)
            reply = self.crash_reply(path)
        self.send_reply(reply)

    def route(self, path: str) -> Reply:
        allowed: list[str] = []
        for method, pattern, action in self.routes():
            match = re.fullmatch(pattern, path)
            if match is None:
                continue
            if method == self.command:
                return action(unquote(match.group(1)) if match.groups() else "")
            allowed.append(method)
        self.read_body()  # drain it so the connection stays usable
        if allowed:
            reply = self.error(405, "method not allowed").reply
            return Reply(reply.status, reply.body, headers=(("Allow", ", ".join(allowed)),))
        raise self.error(404, "not found")

    def send_reply(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise self.error(411, "Content-Length required")
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise self.error(400, "invalid Content-Length")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            if length <= 16 * MAX_BODY_BYTES:  # drain, so the client can read the 413
                self.rfile.read(length)
            raise self.error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length else b""

    def media_type(self) -> str:
        """The request's Content-Type without parameters, lower case ("" when absent)."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def read_json(self, raw: bytes | None = None) -> dict[str, Any]:
        """The body as a JSON object. A body not declared JSON (a form, as `curl -d` sends, or
        no Content-Type at all) is refused with 415, as a JSON API server does, never guessed;
        an empty body is `{}`."""
        raw = self.read_body() if raw is None else raw
        if raw and not _is_json(self.media_type()):
            raise self.error(
                415, f"{SEND_JSON} (this body came as {self.media_type() or 'untyped'})"
            )
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise self.error(400, "malformed JSON body") from None
        if not isinstance(body, dict):
            raise self.error(400, "JSON body must be an object")
        return body

    def read_fields(self) -> tuple[dict[str, Any], bool]:
        """A customer page's POST: its fields (a browser's form, or JSON declared as JSON) and
        whether the caller is a script (a JSON body, or `Accept: application/json`) rather than
        a browser. Anything else with a body is refused (415), never read as no fields: JSON
        text sent as a form (what `curl -d '{...}'` does), no Content-Type, another type."""
        raw = self.read_body()
        media_type = self.media_type()
        is_json = _is_json(media_type)
        if is_json:
            fields = self.read_json(raw)
        elif not raw.strip():
            fields = {}
        elif media_type == FORM and not raw.lstrip().startswith((b"{", b"[")):
            try:
                fields = dict(parse_qsl(raw.decode("utf-8"), strict_parsing=True))
            except (ValueError, UnicodeDecodeError):
                raise self.error(400, "malformed form body") from None
        else:
            came = "JSON text sent as a form" if media_type == FORM else media_type or "untyped"
            raise self.error(415, f"{SEND_JSON}, or a form (this body came as {came})")
        accept = (self.headers.get("Accept") or "").lower()
        return fields, is_json or "json" in accept

    def sandbox_routes(self, fault_key: str) -> list[Route]:
        """Every sandbox's test hooks: `GET /_sandbox/health`, `POST /_sandbox/settings`
        (partial; answers the current settings), `POST /_sandbox/faults` `{fault_key: kind,
        "count": n}` and `DELETE /_sandbox/faults`."""
        settings = self.sandbox.settings
        return [
            ("GET", r"/_sandbox/health", lambda _: json_reply(200, {"ok": True})),
            ("POST", r"/_sandbox/settings", lambda _: json_reply(200, settings(self.read_json()))),
            ("POST", r"/_sandbox/faults", lambda _: self._queue_faults(fault_key)),
            ("DELETE", r"/_sandbox/faults", lambda _: self._clear_faults()),
        ]

    def _queue_faults(self, key: str) -> Reply:
        body = self.read_json()
        kind, count = body.get(key), body.get("count", 1)
        faults = self.sandbox.faults
        problem = faults.problem(kind, count)
        if problem is not None:
            raise self.error(400, f"{key} {problem}" if problem.startswith("must") else problem)
        return json_reply(200, {"queued": faults.add(str(kind), count)})

    def _clear_faults(self) -> Reply:
        self.read_body()
        return json_reply(200, {"cleared": self.sandbox.faults.clear()})

    # -- logging (paths only: queries carry customer data) ------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        elapsed = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        path = urlsplit(self.path).path if hasattr(self, "path") else "?"
        self.log_message("%s %s -> %s (%.0f ms)", self.command, path, code, elapsed)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        sys.stderr.write(f"[{self.sandbox.label}] {format % args}\n")
        sys.stderr.flush()


class _Startable(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


def serve_until_interrupted(sandbox: _Startable) -> None:
    """Run a sandbox standalone (`python -m local.sandboxes.<name>`) until Ctrl-C."""
    sandbox.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
