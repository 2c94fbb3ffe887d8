"""`make run`: the whole gateway on 127.0.0.1 — moto (server mode) with the template's
resources, the API front door, the stream poller, an event subscriber and the Paypro sandbox.

Environment: PAYGATE_PORT (3000), PAYGATE_API_KEY (local-dev-key), PAYGATE_MOTO_PORT (4566),
PAYGATE_PAYPRO_PORT (3101), PAYGATE_SMARTGLOCAL_PORT, PAYGATE_ECOMMPAY_PORT and
PAYGATE_MONETIX_PORT (any free port), PAYGATE_ECOMMPAY_ATM_CHANNEL (2), PAYGATE_STATE_DIR
(.paygate), PAYGATE_SCHEDULE_SECONDS (the template's rate), PAYGATE_CLOCK (``real``, the
default: the local clock follows real time; ``manual``: time moves only by
``POST /_local/clock``, what the e2e tests use). `GET /_local/sandboxes` lists the sandboxes'
URLs; `GET|POST /_local/clock` reads and advances the one clock the functions, the schedules
and the sandboxes share (local/aws/clock.py). Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from local.aws.clock import LocalClock, clock_route, mode_from_env

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
LAYER_PATH = ROOT / "layers" / "core"  # what Lambda mounts at /opt/python


class _Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass(frozen=True)
class LocalConfig:
    port: int
    api_key: str
    moto_port: int
    paypro_port: int
    state_dir: Path

    @classmethod
    def from_env(cls) -> LocalConfig:
        return cls(
            port=int(os.environ.get("PAYGATE_PORT", "3000")),
            api_key=os.environ.get("PAYGATE_API_KEY", "local-dev-key"),
            moto_port=int(os.environ.get("PAYGATE_MOTO_PORT", "4566")),
            paypro_port=int(os.environ.get("PAYGATE_PAYPRO_PORT", "3101")),
            state_dir=Path(os.environ.get("PAYGATE_STATE_DIR", ".paygate")),
        )

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def events_file(self) -> Path:
        return self.state_dir / "events.jsonl"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "lambda.log"


def aws_environment(config: LocalConfig) -> dict[str, str]:
    """Everything boto3 and Powertools need to talk to moto instead of AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_REGION": "ap-southeast-1",
        "AWS_ENDPOINT_URL": f"http://{HOST}:{config.moto_port}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


def _banner(config: LocalConfig, sandbox_url: str, clock_mode: str = "real") -> str:
    example = json.dumps({"amount": 50000, "currency": "VND", "merchant_reference": "order-1001"})
    return f"""
paygate is running (local runtime; Ctrl-C stops everything)

  API             {config.api_url}
  API key         {config.api_key}   (header x-api-key)
  Checkout page   {config.api_url}/checkout/   (pay with each method in the sandboxes)
  API docs        {config.api_url}/docs   (Swagger UI; document: /openapi.json)
  Paypro sandbox  {sandbox_url}
  Events          {config.events_file}   (one JSON event per line)
  Handler logs    {config.log_file}
  Clock           {config.api_url}/_local/clock   ({clock_mode}; POST {{"advance_seconds": N}})

Try it:
  curl -s -X POST {config.api_url}/v1/paypro/payments \\
    -H 'x-api-key: {config.api_key}' -H 'content-type: application/json' \\
    -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" \\
    -d '{example}'
""".rstrip()


def _send_handler_output_to(stream: TextIO) -> TextIO:
    """In Lambda, handlers' stdout (Powertools' JSON logs and EMF metrics) goes to CloudWatch;
    here it goes to the log file. Returns the console for the runtime's own output."""
    for handler in logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "paygate")).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    console = sys.stdout
    sys.stdout = stream
    return console


def _local_site(template: Any, config: LocalConfig) -> Any:
    """The checkout page, its merchant proxy and the API docs (local/merchant/site.py)."""
    from local.merchant.site import LocalSite
    from paygate.domain import Operation
    from paygate.money import LIMITS

    minimums = {
        method.value: limit.minimum
        for (method, operation), limit in LIMITS.items()
        if operation is Operation.SALE and limit.minimum is not None
    }
    return LocalSite(template, config.api_url, config.api_key, minimums)


def _atm_channel() -> int:
    """The local ecommpay project's NAPAS ATM channel: 2 (card clarification possible)."""
    return 1 if os.environ.get("PAYGATE_ECOMMPAY_ATM_CHANNEL", "2") == "1" else 2


def _platform_sandboxes(
    secrets: dict[str, Any], config: LocalConfig, clock: LocalClock
) -> dict[str, Any]:
    """The ecommpay and Monetix platform sandboxes, each with its project's secret and the
    gateway's callback route as the project's callback URL."""
    from local.sandboxes.platform import PlatformSandbox, PlatformSandboxConfig

    channel = _atm_channel()
    sandboxes = {}
    for provider in ("ecommpay", "monetix"):
        secret = secrets[f"{provider.capitalize()}Secret"]
        sandbox_config = PlatformSandboxConfig(
            provider=provider,
            project_id=int(secret["project_id"]),
            secret_key=secret["secret_key"],
            callback_url=f"{config.api_url}/webhooks/{provider}",
            atm_channel=channel,  # type: ignore[arg-type]
        )
        port = int(os.environ.get(f"PAYGATE_{provider.upper()}_PORT", "0"))
        sandboxes[provider] = PlatformSandbox(
            sandbox_config, HOST, port, now=clock.now, timers=clock
        )
    return sandboxes


def _sandbox_environment(urls: dict[str, str], config: LocalConfig) -> dict[str, str]:
    """The functions' provider URLs pointed at the sandboxes (the template's defaults are the
    providers' real hosts)."""
    return {
        "PAYPRO_BASE_URL": urls["paypro"],
        "SMARTGLOCAL_BASE_URL": urls["smartglocal"],
        "ECOMMPAY_GATE_URL": urls["ecommpay"],
        "ECOMMPAY_PAYMENT_PAGE_URL": f"{urls['ecommpay']}/payment",
        "ECOMMPAY_ATM_CHANNEL": str(_atm_channel()),
        "MONETIX_GATE_URL": urls["monetix"],
        "MONETIX_PAYMENT_PAGE_URL": f"{urls['monetix']}/payment",
        "WEBHOOK_BASE_URL": config.api_url,
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
    }


def _background_workers(
    template: Any, handlers: dict[str, Any], made: Any, clock: LocalClock
) -> list[Any]:
    """The stream pollers (Lambda's event source mappings) and the schedulers (EventBridge)."""
    from local.aws.scheduler import Scheduler
    from local.aws.streams import StreamPoller

    workers: list[Any] = []
    for source in template.stream_sources():
        function, handler = handlers[source.function_id]
        dlq = made.refs.get(source.on_failure_queue_id or "")
        stream_arn = made.attributes[(source.table_id, "StreamArn")]
        workers.append(StreamPoller(source, stream_arn, function, handler, dlq))
    every = os.environ.get("PAYGATE_SCHEDULE_SECONDS")
    for schedule in template.schedules():
        handler = handlers[schedule.function_id][1]
        workers.append(Scheduler(schedule, handler, clock, float(every) if every else None))
    return workers


def main() -> int:
    config = LocalConfig.from_env()
    started = time.monotonic()
    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))
    config.state_dir.mkdir(parents=True, exist_ok=True)
    config.events_file.write_text("", encoding="utf-8")  # moto starts empty, so do the events
    os.environ.update(aws_environment(config))
    clock = LocalClock(mode_from_env(os.environ.get("PAYGATE_CLOCK")))
    import paygate.clock

    paygate.clock.use(clock.now)  # the functions run in this process: they see the local clock
    clock.start()
    from local.aws.aws_calls import install_from_environment

    install_from_environment()  # PAYGATE_AWS_CALLS_FILE: the tests' IAM check (tests/iam/)

    from local.aws.apigw import load_handler
    from local.aws.frontdoor import FrontDoor
    from local.aws.moto_process import MotoProcess
    from local.aws.provision import load_dev_secrets, provision
    from local.aws.subscriber import EventSubscriber
    from local.aws.template import load_template
    from local.sandboxes.paypro import PayproSandbox, SandboxConfig

    moto = MotoProcess(HOST, config.moto_port)
    moto.start()
    template = load_template()
    secrets = load_dev_secrets()
    # Smart Glocal: our key pair and the sandbox's are generated now and seeded into the
    # SmartglocalSecret value before provision() writes it (local/sandboxes/smartglocal.py).
    from local.sandboxes.smartglocal import seeded_sandbox

    smartglocal = seeded_sandbox(
        secrets,
        HOST,
        int(os.environ.get("PAYGATE_SMARTGLOCAL_PORT", "0")),  # 0: any free port
        webhook_url=f"{config.api_url}/webhooks/smartglocal",
        now=clock.now,
        timers=clock,
    )
    smartglocal.start()
    made = provision(template, secrets)

    paypro_secret = secrets["PayproSecret"]
    sandbox = PayproSandbox(
        SandboxConfig(
            merchant_no=paypro_secret["merchant_no"], app_secret=paypro_secret["app_secret"]
        ),
        host=HOST,
        port=config.paypro_port,
        now=clock.now,
        timers=clock,
    )
    sandbox.start()
    platform = _platform_sandboxes(secrets, config, clock)
    for platform_sandbox in platform.values():
        platform_sandbox.start()

    functions = template.functions()
    for function in functions:
        os.environ.update(made.environment(function))
    sandbox_urls = {
        "paypro": sandbox.base_url,
        "smartglocal": smartglocal.base_url,
        **{name: platform_sandbox.base_url for name, platform_sandbox in platform.items()},
    }
    os.environ.update(_sandbox_environment(sandbox_urls, config))
    handlers = {f.logical_id: (f, load_handler(f)) for f in functions}
    log_stream = config.log_file.open("a", encoding="utf-8", buffering=1)
    console = _send_handler_output_to(log_stream)

    def health() -> tuple[int, str, bytes]:
        return 200, "application/json", b'{"ok": true}'

    def sandboxes() -> tuple[int, str, bytes]:
        return 200, "application/json", json.dumps(sandbox_urls).encode()

    door = FrontDoor(
        template.routes(),
        handlers,
        config.api_key,
        HOST,
        config.port,
        extra_routes={"/_local/health": health, "/_local/sandboxes": sandboxes},
        site=_local_site(template, config).handle,
        local_routes={"/_local/clock": clock_route(clock)},
    )
    workers = _background_workers(template, handlers, made, clock)
    topic_arn = next(iter(made.refs[t] for t in template.of_type("AWS::SNS::Topic")))
    subscriber = EventSubscriber(topic_arn, config.events_file, console)

    door.start()
    for worker in workers:
        worker.start()
    subscriber.start()
    print(_banner(config, sandbox.base_url, clock.mode), file=console, flush=True)
    for name, url in list(sandbox_urls.items())[1:]:
        print(f"  {name} sandbox {url}", file=console, flush=True)
    print(f"\nready in {time.monotonic() - started:.1f}s", file=console, flush=True)

    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stop.wait()
    print("\nstopping...", file=console, flush=True)
    parts: list[_Stoppable] = [
        door,
        *workers,
        subscriber,
        sandbox,
        smartglocal,
        *platform.values(),
        clock,
        moto,
    ]
    for part in parts:
        began = time.monotonic()
        part.stop()
        if time.monotonic() - began > 1:
            print(f"  {type(part).__name__} took {time.monotonic() - began:.1f}s", file=console)
    sys.stdout = console
    log_stream.close()
    print("stopped", file=console, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
