"""What the local runtime serves besides the API: the checkout page (`/checkout/`, static
files from local/merchant/checkout/), the operator console (`/console/`, static files from
local/merchant/console/; what both load first: `/shared/`), the pages' icon (`/favicon.ico`),
their merchant proxy (`/merchant/...`, local/merchant/proxy.py), the OpenAPI document
(`/openapi.json`) and Swagger UI (`/docs`, Swagger UI's files from the `swagger-ui-py`
package: nothing is fetched from the internet)."""

from __future__ import annotations

import html
import importlib.util
import json
import threading
from pathlib import Path
from typing import Any, Literal

from local.aws.template import Template
from local.merchant.proxy import MerchantProxy, ProxyReply
from tools.openapi import build_document, for_server

CHECKOUT_DIR = Path(__file__).resolve().parent / "checkout"
CONSOLE_DIR = Path(__file__).resolve().parent / "console"
# What both pages load first (`../shared/base.css`, `../shared/merchant.js`).
SHARED_DIR = Path(__file__).resolve().parent / "shared"
# Every local page's icon: browsers ask for /favicon.ico when a page names none.
FAVICON = SHARED_DIR / "favicon.svg"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# The checkout page loads nothing but its own files; it may post a redirect form anywhere.
CHECKOUT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# The console loads nothing but its own files and posts no form anywhere.
CONSOLE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>paygate API docs</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""
DOCS_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null,
});
"""
Reply = tuple[int, str, bytes, dict[str, str]]


def swagger_ui_dir() -> Path:
    """Swagger UI's static files inside the installed `swagger_ui` package (not imported)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (uv.lock group run)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _file(path: Path, headers: dict[str, str] | None = None) -> Reply:
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    return 200, content_type, path.read_bytes(), {"Cache-Control": "no-cache", **(headers or {})}


def _text(body: str, content_type: str, headers: dict[str, str] | None = None) -> Reply:
    return 200, content_type, body.encode(), {"Cache-Control": "no-cache", **(headers or {})}


class LocalSite:
    """Answers the non-API paths; `handle` returns None for every other path."""

    def __init__(
        self,
        template: Template,
        api_url: str,
        api_key: str,
        minimums: dict[str, int],
        atm_channel: Literal[1, 2] = 2,
    ) -> None:
        self.template = template
        self.api_url = api_url
        # The status push's WebSocket URL (local/aws/websocket.py), given to the checkout in
        # its `paygate-status-socket` meta tag and allowed by its CSP; empty: the page polls.
        self.status_socket_url = ""
        self._document: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.proxy = MerchantProxy(
            api_url, api_key, self.document, minimums, atm_channel=atm_channel
        )
        # /<name>/ → (that folder's files, its Content-Security-Policy)
        self.static_pages = {
            name: ({p.name: p for p in folder.iterdir() if p.is_file()}, csp)
            for name, folder, csp in (
                ("checkout", CHECKOUT_DIR, CHECKOUT_CSP),
                ("console", CONSOLE_DIR, CONSOLE_CSP),
                ("shared", SHARED_DIR, CONSOLE_CSP),
            )
        }

    def document(self) -> dict[str, Any]:
        """The OpenAPI document of the loaded handlers (built once), served for this URL."""
        with self._lock:
            if self._document is None:
                self._document = for_server(build_document(self.template), self.api_url)
            return self._document

    def handle(
        self, method: str, path: str, query: str, body: bytes, headers: dict[str, str]
    ) -> Reply | None:
        proxied: ProxyReply | None = self.proxy.handle(method, path, body, headers, query)
        if proxied is not None:
            return proxied.status, proxied.content_type, proxied.body, proxied.headers
        if method != "GET":
            return None
        if path == "/docs/":
            return 301, "text/plain", b"", {"Location": "/docs"}
        if path == "/favicon.ico":
            return _file(FAVICON)
        static = self._static(path)
        if static is not None:
            return static
        if path == "/openapi.json":
            text = json.dumps(self.document(), indent=2, ensure_ascii=False)
            return _text(text, "application/json")
        if path == "/docs":
            return _text(DOCS_PAGE, "text/html; charset=utf-8")
        if path == "/docs/init.js":
            return _text(DOCS_INIT, "text/javascript; charset=utf-8")
        if path.startswith("/docs/") and path[len("/docs/") :] in SWAGGER_FILES:
            return _file(swagger_ui_dir() / path[len("/docs/") :])
        return None

    def _static(self, path: str) -> Reply | None:
        """A static page's file (`/checkout/…`, `/console/…`, what both share: `/shared/…`;
        `/<name>` → 301 `/<name>/`)."""
        name, slash, rest = path[1:].partition("/")
        if name not in self.static_pages:
            return None
        if not slash:
            return 301, "text/plain", b"", {"Location": f"/{name}/"}
        files, csp = self.static_pages[name]
        found = files.get(rest or "index.html")
        if found is None:
            return 404, "text/plain; charset=utf-8", b"not found", {}
        if name == "checkout" and found.name == "index.html" and self.status_socket_url:
            return self._checkout_page(found, csp)
        return _file(found, {"Content-Security-Policy": csp})

    def _checkout_page(self, page: Path, csp: str) -> Reply:
        """The checkout's page with the status push's URL in its meta tag and CSP."""
        url = html.escape(self.status_socket_url, quote=True)
        text = page.read_text(encoding="utf-8").replace(
            '<meta name="paygate-status-socket" content="">',
            f'<meta name="paygate-status-socket" content="{url}">',
        )
        allowed = csp.replace("connect-src 'self'", f"connect-src 'self' {self.status_socket_url}")
        return _text(text, CONTENT_TYPES[".html"], {"Content-Security-Policy": allowed})
