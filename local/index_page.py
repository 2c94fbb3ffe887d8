"""`GET /` in the local runtime: a small index page for a newcomer, linking to what runs here
(the checkout page, the operator console, the API docs, the OpenAPI document, each provider
sandbox, the local clock). The real API Gateway answers `/` with 403; this page exists only
locally."""

from __future__ import annotations

from html import escape

from local.aws.clock import Mode

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>paygate · local runtime</title>
  <style>
    body {{ font: 1rem/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto;
           padding: 0 1rem; color: #1a1a1a; background: #fff; }}
    a {{ color: #0645ad; }}
    a:focus-visible {{ outline: 3px solid #1a1a1a; outline-offset: 2px; }}
    code {{ font-size: 0.95em; }}
    .muted {{ color: #555; }}
  </style>
</head>
<body>
  <main>
    <h1>paygate, running locally</h1>
    <p>The gateway's API, with moto for AWS and a sandbox for each provider, all on this
      machine. API calls need the header <code>x-api-key</code>.</p>
    <nav aria-labelledby="try-title">
      <h2 id="try-title">Try it</h2>
      <ul>
        <li><a href="/checkout/">Checkout page</a>
          <span class="muted">: pay with each method in the sandboxes</span></li>
        <li><a href="/console/">Operator console</a>
          <span class="muted">: find a payment, read its timeline, resolve a review</span></li>
        <li><a href="/docs">API docs</a> <span class="muted">(Swagger UI)</span></li>
        <li><a href="/openapi.json">OpenAPI document</a> <span class="muted">(JSON)</span></li>
      </ul>
    </nav>
    <section aria-labelledby="sandboxes-title">
      <h2 id="sandboxes-title">Provider sandboxes</h2>
      <ul>
{sandboxes}
      </ul>
      <p><a href="/_local/sandboxes">Sandbox URLs</a> <span class="muted">(JSON)</span></p>
    </section>
    <section aria-labelledby="clock-title">
      <h2 id="clock-title">Local clock</h2>
      <p><a href="/_local/clock">The local clock's time</a>
        <span class="muted">({mode}; <code>POST /_local/clock</code> with
        <code>{{"advance_seconds": N}}</code> moves it forward)</span></p>
    </section>
  </main>
</body>
</html>
"""
SANDBOX_ITEM = (
    "        <li>{name}: <code>{url}</code> "
    '(<a href="{url}/_sandbox/health" aria-label="{name} sandbox health">health</a>)</li>'
)
NAMES = {"paypro": "Paypro", "smartglocal": "Smart Glocal", "ecommpay": "ecommpay"}


def render(sandbox_urls: dict[str, str], clock_mode: Mode) -> bytes:
    """The page's HTML for the running sandboxes (name → base URL) and the clock's mode."""
    items = "\n".join(
        SANDBOX_ITEM.format(name=escape(NAMES.get(name, name.capitalize())), url=escape(url))
        for name, url in sandbox_urls.items()
    )
    return PAGE.format(sandboxes=items, mode=escape(clock_mode)).encode()
