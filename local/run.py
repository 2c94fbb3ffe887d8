"""`make run` (`python -m local.run`): the whole gateway on 127.0.0.1 — moto (server mode) with
the template's resources, the API front door, the stream pollers, the schedules, an event
subscriber and the four provider sandboxes, all on one local clock.

Settings come from the environment once (local/config.py lists them). `GET /` is an index of
what runs; `GET /_local/sandboxes` lists the sandboxes' URLs; `GET|POST /_local/clock` reads
and advances the one clock the functions, the schedules and the sandboxes share
(local/aws/clock.py). Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from local.config import ROOT, LocalConfig

if TYPE_CHECKING:
    from local.aws.activity import Activity

LAYER_PATH = ROOT / "layers" / "core"  # what Lambda mounts at /opt/python
DOCS_SITE = ROOT / "site" / "index.html"  # `make docs` builds the docs site from docs/ there


class _Stoppable(Protocol):
    def stop(self) -> None: ...


def _docs_link(site: Path = DOCS_SITE) -> str:
    """The local copy of the docs site, or how to build it."""
    if site.exists():
        return f"{site.as_uri()}   (rebuild: make docs; with search: make docs-serve)"
    return f"{site.as_uri()}   (not built yet: make docs; with search: make docs-serve)"


def _banner(config: LocalConfig, sandbox_urls: dict[str, str]) -> str:
    example = json.dumps({"amount": 50000, "currency": "VND", "merchant_reference": "order-1001"})
    sandboxes = "\n".join(f"  {name:<15} {url}" for name, url in sandbox_urls.items())
    return f"""
paygate is running (local runtime; Ctrl-C stops everything)

  Start here      {config.api_url}/   (links to everything below)
  API             {config.api_url}
  API key         {config.api_key}   (header x-api-key; every scope, stored hashed)
  Checkout page   {config.api_url}/checkout/   (pay with each method in the sandboxes)
  Console         {config.api_url}/console/   (operators: find payments, timelines, reviews)
{_operator_lines(config)}
  API docs        {config.api_url}/docs   (Swagger UI; document: /openapi.json)
  Docs            {_docs_link()}
  Events          {config.events_file}   (one JSON event per line)
  Handler logs    {config.log_file}
  Clock           {config.api_url}/_local/clock   ({config.clock_mode}; POST advance_seconds)
Provider sandboxes:
{sandboxes}

Try it:
  curl -s -X POST {config.api_url}/v1/paypro/payments \\
    -H 'x-api-key: {config.api_key}' -H 'content-type: application/json' \\
    -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" \\
    -d '{example}'
""".rstrip()


def _operator_lines(config: LocalConfig) -> str:
    """The console's local operators and their passwords (local/aws/cognito.py)."""
    return "\n".join(
        f"    sign in as    {operator.email} / {operator.password}   ({', '.join(operator.groups)})"
        for operator in config.operators
    )


def _prepare_process(config: LocalConfig) -> Activity:
    """The layer on sys.path (as Lambda mounts it), a fresh events file (moto starts empty), the
    AWS environment, the recording of AWS calls when asked for (tests/iam/) and the count of
    this process's writes that wakes the event sources (local/aws/activity.py)."""
    from local.aws import activity
    from local.aws.aws_calls import install
    from local.aws.lambdas import aws_environment

    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))
    config.state_dir.mkdir(parents=True, exist_ok=True)
    config.events_file.write_text("", encoding="utf-8")
    os.environ.update(aws_environment(config))
    if config.aws_calls_file is not None:
        install(config.aws_calls_file)
    return activity.install()


def _send_handler_output_to(stream: TextIO) -> TextIO:
    """In Lambda, handlers' stdout (Powertools' JSON logs and EMF metrics) goes to CloudWatch;
    here it goes to the log file. Returns the console for the runtime's own output."""
    for handler in logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "paygate")).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    console = sys.stdout
    sys.stdout = stream
    return console


def _sale_minimums() -> dict[str, int]:
    """The smallest sale amount per method, for the checkout page's form."""
    from paygate.domain import Operation
    from paygate.money import LIMITS

    return {
        method.value: limit.minimum
        for (method, operation), limit in LIMITS.items()
        if operation is Operation.SALE and limit.minimum is not None
    }


def _json_route(document: Any) -> Any:
    return lambda: (200, "application/json", json.dumps(document).encode())


def _wait_for_ctrl_c() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    stop.wait()


def _stop_all(parts: list[_Stoppable], console: TextIO) -> None:
    for part in parts:
        began = time.monotonic()
        part.stop()
        if time.monotonic() - began > 1:
            print(f"  {type(part).__name__} took {time.monotonic() - began:.1f}s", file=console)


def main() -> int:
    config = LocalConfig.from_env()
    started = time.monotonic()
    activity = _prepare_process(config)
    import paygate.clock
    from local import index_page
    from local.aws.clock import LocalClock, clock_route
    from local.aws.cognito import JWKS_PATH, SIGN_IN_PATH, LocalUserPool
    from local.aws.frontdoor import FrontDoor
    from local.aws.lambdas import event_source_workers, load_functions, status_topic_arn
    from local.aws.merchant_keys import seed_merchant_key
    from local.aws.moto_process import MotoProcess
    from local.aws.provision import load_dev_secrets, provision
    from local.aws.subscriber import EventSubscriber
    from local.aws.template import load_template
    from local.aws.throttle import Throttle
    from local.aws.websocket import LocalWebSocketApi
    from local.merchant.site import LocalSite
    from local.provider_sandboxes import start_sandboxes

    clock = LocalClock(config.clock_mode)
    paygate.clock.use(clock.now)  # the functions run in this process: they see the local clock
    clock.start()
    moto = MotoProcess(config.host, config.moto_port)
    moto.start()
    template = load_template()
    secrets = load_dev_secrets(config.secrets_file)
    sandboxes = start_sandboxes(config, secrets, clock)  # seeds Smart Glocal's keys: first
    made = provision(template, secrets)
    seed_merchant_key(made, config.api_key)  # stored hashed; the real authorizer checks it
    overrides = {**sandboxes.function_environment(config), "POWERTOOLS_LOG_LEVEL": config.log_level}
    # The status push's WebSocket API: its port is known before the publisher is imported.
    sockets = LocalWebSocketApi(template, {}, config.host, config.websocket_port)
    overrides["WEBSOCKET_ENDPOINT"] = sockets.management_endpoint
    functions = load_functions(template, made, overrides)
    sockets.functions = functions
    log_stream = config.log_file.open("a", encoding="utf-8", buffering=1)
    console = _send_handler_output_to(log_stream)
    site = LocalSite(template, config.api_url, config.api_key, _sale_minimums(), config.atm_channel)
    site.status_socket_url = sockets.url
    index = index_page.render(sandboxes.urls, config.clock_mode)
    operators = LocalUserPool(config.operators, clock.now)
    door = FrontDoor(
        template.routes(),
        functions,
        config.api_key,
        config.host,
        config.port,
        extra_routes={
            "/": lambda: (200, "text/html; charset=utf-8", index),
            "/_local/health": _json_route({"ok": True}),
            "/_local/sandboxes": _json_route(sandboxes.urls),
            JWKS_PATH: operators.jwks_route,
        },
        site=site.handle,
        local_routes={"/_local/clock": clock_route(clock), SIGN_IN_PATH: operators.sign_in_route},
        throttle=Throttle.from_setting(config.throttle),
        operators=operators,
    )
    workers = event_source_workers(
        template, functions, made, clock, config.schedule_seconds, activity
    )
    topic = status_topic_arn(template, made)
    subscriber = EventSubscriber(topic, config.events_file, console, activity)
    sockets.start()
    for part in (door, *workers, subscriber):
        part.start()
    print(_banner(config, sandboxes.urls), file=console, flush=True)
    print(f"\nready in {time.monotonic() - started:.1f}s", file=console, flush=True)

    _wait_for_ctrl_c()
    print("\nstopping...", file=console, flush=True)
    _stop_all([door, sockets, *workers, subscriber, sandboxes, clock, moto], console)
    sys.stdout = console
    log_stream.close()
    print("stopped", file=console, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
