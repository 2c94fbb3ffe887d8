"""`make run`: the whole gateway on 127.0.0.1 — moto (server mode) with the template's
resources, the API front door, the stream poller, an event subscriber and the Paypro sandbox.

Environment: PAYGATE_PORT (3000), PAYGATE_API_KEY (local-dev-key), PAYGATE_MOTO_PORT (4566),
PAYGATE_PAYPRO_PORT (3101), PAYGATE_STATE_DIR (.paygate). Ctrl-C stops everything.
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
from typing import Any

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
LAYER_PATH = ROOT / "layers" / "core"  # what Lambda mounts at /opt/python


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
        "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
        "POWERTOOLS_DEV": "false",
    }


def _banner(config: LocalConfig, sandbox_url: str) -> str:
    example = json.dumps({"amount": 50000, "currency": "VND", "merchant_reference": "order-1001"})
    return f"""
paygate is running (local runtime; Ctrl-C stops everything)

  API             {config.api_url}
  API key         {config.api_key}   (header x-api-key)
  Paypro sandbox  {sandbox_url}
  Events          {config.events_file}   (one JSON event per line)
  Handler logs    {config.log_file}

Try it:
  curl -s -X POST {config.api_url}/v1/paypro/payments \\
    -H 'x-api-key: {config.api_key}' -H 'content-type: application/json' \\
    -d '{example}'
""".rstrip()


def _redirect_handler_logs(log_file: Path) -> None:
    """Powertools' Logger writes JSON to stdout; locally it goes to the log file instead."""
    stream = log_file.open("a", encoding="utf-8")
    for handler in logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "paygate")).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)


def main() -> int:
    config = LocalConfig.from_env()
    started = time.monotonic()
    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))
    config.state_dir.mkdir(parents=True, exist_ok=True)
    config.events_file.write_text("", encoding="utf-8")  # moto starts empty, so do the events
    os.environ.update(aws_environment(config))

    from moto.server import ThreadedMotoServer

    from local.apigw import load_handler
    from local.frontdoor import FrontDoor
    from local.provision import load_dev_secrets, provision
    from local.sandboxes.paypro import PayproSandbox, SandboxConfig
    from local.streams import StreamPoller
    from local.subscriber import EventSubscriber
    from local.template import load_template

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    moto = ThreadedMotoServer(ip_address=HOST, port=config.moto_port, verbose=False)
    moto.start()
    template = load_template()
    secrets = load_dev_secrets()
    made = provision(template, secrets)

    paypro_secret = secrets["PayproSecret"]
    sandbox = PayproSandbox(
        SandboxConfig(
            merchant_no=paypro_secret["merchant_no"], app_secret=paypro_secret["app_secret"]
        ),
        host=HOST,
        port=config.paypro_port,
    )
    sandbox.start()

    functions = template.functions()
    for function in functions:
        os.environ.update(made.environment(function))
    os.environ["PAYPRO_BASE_URL"] = sandbox.base_url
    os.environ["WEBHOOK_BASE_URL"] = config.api_url
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
    handlers = {f.logical_id: (f, load_handler(f)) for f in functions}
    _redirect_handler_logs(config.log_file)

    def health() -> tuple[int, str, bytes]:
        return 200, "application/json", b'{"ok": true}'

    door = FrontDoor(
        template.routes(),
        handlers,
        config.api_key,
        HOST,
        config.port,
        extra_routes={"/_local/health": health},
    )
    pollers = []
    for source in template.stream_sources():
        function, handler = handlers[source.function_id]
        dlq = made.refs.get(source.on_failure_queue_id or "")
        stream_arn = made.attributes[(source.table_id, "StreamArn")]
        pollers.append(StreamPoller(source, stream_arn, function, handler, dlq))
    topic_arn = next(iter(made.refs[t] for t in template.of_type("AWS::SNS::Topic")))
    subscriber = EventSubscriber(topic_arn, config.events_file)

    door.start()
    for poller in pollers:
        poller.start()
    subscriber.start()
    print(_banner(config, sandbox.base_url), flush=True)
    print(f"\nready in {time.monotonic() - started:.1f}s", flush=True)

    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stop.wait()
    print("\nstopping...", flush=True)
    door.stop()
    for poller in pollers:
        poller.stop()
    subscriber.stop()
    sandbox.stop()
    moto.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
