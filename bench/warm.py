"""Warm handler time: thousands of invocations of each webhook handler, in one process of the
Lambda-like environment (bench/lambda_env.py, the `sam build` artifact), every AWS call
answered at once by an in-process botocore stand-in (no network), against the peer's warm
handler (bench/peer/app.py) answered by the same stand-in, in the same run."""

from __future__ import annotations

import json
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import lambda_env
from bench.common import ROOT, summary

CALLS = 3000
WARMUP = 200
PEER = "PeerFunction"
NEUTRAL = Path("/")  # not a task root: the task root comes from PYTHONPATH, after the overlay


def _event(path: str, body: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
    from local.aws.apigw import proxy_event
    from local.aws.template import ApiRoute

    route = ApiRoute("bench", "POST", path, False)
    return proxy_event(
        route, path, body=body, headers={"content-type": "application/json", **(headers or {})}
    )


BENCH_PAYMENT_ID = "pay_202612070000000123456789"
SMARTGLOCAL_METADATA = b'"metadata": {"paygate_payment_id": "pay_202612070000000123456789"}'


def events(secrets: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One signed delivery per webhook function, as its provider sends it."""
    from paygate.providers.paypro import signing as paypro
    from paygate.providers.platform import signing as platform
    from paygate.providers.smartglocal import signing as smartglocal

    # Sent now, with our payment id, as Paypro would: the notify's model and age are checked.
    now_ms = str(int(datetime.now(UTC).timestamp() * 1000))
    fields = {"status": "0000", "tradeNo": "pay_202612070000000123456789",
              "platFormTradeNo": "pp_bench", "amount": "50000", "timestamp": now_ms,
              "message": "bench"}  # fmt: skip
    fields["sign"] = paypro.sign(fields, secrets["PayproSecret"]["app_secret"])
    events = {
        "PayproWebhookFunction": _event("/webhooks/paypro", json.dumps(fields).encode()),
        PEER: _event("/webhooks/peer", json.dumps(fields).encode()),
    }
    for provider in ("ecommpay", "monetix"):
        name = "atm-page-purchase-success" if provider == "ecommpay" else None
        path = ROOT / "events" / provider / f"{name}.json" if name else None
        if path is None:
            path = sorted((ROOT / "events" / provider).glob("*purchase-success.json"))[0]
        document = json.loads(path.read_text(encoding="utf-8"))
        document.pop("signature", None)
        secret = secrets[f"{provider.capitalize()}Secret"]
        # As the platform sends it to us: our project, our payment id, dated now.
        document["project_id"] = secret["project_id"]
        document["payment"]["id"] = BENCH_PAYMENT_ID
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
        for part in ("payment", "operation"):
            for field in ("date", "created_date"):
                if field in document[part]:
                    document[part][field] = stamp
        document["signature"] = platform.sign(document, secret["secret_key"])
        body = json.dumps(document).encode()
        events[f"{provider.capitalize()}WebhookFunction"] = _event(f"/webhooks/{provider}", body)
    private_pem = (ROOT / "tests/vectors/smartglocal/private.pem").read_text(encoding="utf-8")
    # The docs' example, carrying our payment id in its metadata as every session we create
    # does (`paygate_payment_id`): the common delivery, one DynamoDB call, like the others.
    # Without it the delivery is the unknown-payment path (a Query, then a PutItem).
    example = (ROOT / "events/smartglocal/webhook-payment-finished.json").read_bytes().strip()
    body = example.replace(b'"metadata": {"key": "value"}', SMARTGLOCAL_METADATA)
    if body == example:
        raise RuntimeError("the Smart Glocal example no longer has the metadata to replace")
    # Sent now, as Smart Glocal would: its signed `session.updated_at` is checked for age.
    updated = json.loads(body)["session"]["updated_at"].encode()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()
    body = body.replace(b'"updated_at": "' + updated + b'"', b'"updated_at": "' + now + b'"')
    headers = {"X-PARTNER-SIGN": smartglocal.sign(body, private_pem)}
    events["SmartglocalWebhookFunction"] = _event("/webhooks/smartglocal", body, headers)
    return events


class StatusStandIn:
    """`POST /v2/payment/status` on 127.0.0.1, answering the bench payment as the platform does
    once it is paid (the callback's own `payment` and last operation): the confirmation's
    round trip without a provider's network and processing time."""

    def __init__(self, callbacks: dict[str, dict[str, Any]]) -> None:
        import http.server
        import socket
        import threading

        answers = {
            provider: json.dumps(
                {
                    "project_id": document["project_id"],
                    "payment": document["payment"],
                    "operations": [document["operation"]],
                }
            ).encode()
            for provider, document in callbacks.items()
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # headers and body go out as written, not after a delayed ACK
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                body = answers[self.path.strip("/").split("/", 1)[0]]
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, provider: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{provider}"

    def __enter__(self) -> StatusStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def secret_strings(secrets: dict[str, Any]) -> dict[str, str]:
    """SecretId (the offline environment names each secret by its logical id) → value."""
    from paygate.providers.smartglocal import signing as smartglocal

    private_pem = (ROOT / "tests/vectors/smartglocal/private.pem").read_text(encoding="utf-8")
    values = {name: dict(value) for name, value in secrets.items()}
    values["SmartglocalSecret"]["provider_public_key_pem"] = smartglocal.public_pem_of(private_pem)
    return {name: json.dumps(value) for name, value in values.items()}


def _time(
    name: str, event: dict[str, Any], env: dict[str, str], cwd: Path, secrets: dict[str, str]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.json"
        out = Path(folder) / "out.json"
        spec.write_text(json.dumps({"event": event, "secrets": secrets, "warmup": WARMUP,
                                    "calls": CALLS, "out": str(out)}))  # fmt: skip
        command = lambda_env.child("warm", str(spec))
        subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        result: dict[str, Any] = json.loads(out.read_text())
    answer = result["answer"] or {}
    stats = summary(result["samples_us"])
    return {"p50_us": round(stats["p50"], 1), "p99_us": round(stats["p99"], 1),
            "answer": f"{answer.get('statusCode')} {str(answer.get('body'))[:40]}"}  # fmt: skip


def peer_environment(template: Any) -> dict[str, str]:
    """The peer's Lambda environment: the template's Powertools settings, a table name; its
    task root is a fresh copy of bench/peer and it uses no layer of ours."""
    lambda_env.prepare_peer()
    globals_env = template.document["Globals"]["Function"]["Environment"]["Variables"]
    variables = {k: str(v) for k, v in globals_env.items() if k.startswith("POWERTOOLS_")}
    variables["PAYMENTS_TABLE"] = "PaymentsTable"
    env = lambda_env.environment(lambda_env.PEER, variables, PEER)
    env["PYTHONPATH"] = str(lambda_env.PEER)
    return env


def measure() -> dict[str, Any]:
    from local.aws.provision import load_dev_secrets, offline_environment
    from local.aws.template import load_template

    template = load_template()
    secrets = load_dev_secrets()
    deliveries = events(secrets)
    strings = secret_strings(secrets)
    peer_env = peer_environment(template)
    rows: dict[str, Any] = {}
    peer_rounds = []
    webhooks = [
        f for f in template.functions() if f.logical_id in deliveries and f.logical_id != PEER
    ]
    for function in webhooks:  # the peer is timed before each, so drift hits both alike
        peer_rounds.append(_time(PEER, deliveries[PEER], peer_env, NEUTRAL, strings))
        task = lambda_env.task_root(function.logical_id)
        variables = offline_environment(template, function) | UNCONFIRMED
        env = lambda_env.environment(task, variables, function.logical_id)
        rows[function.logical_id] = _time(
            function.logical_id, deliveries[function.logical_id], env, NEUTRAL, strings
        )
        peer = peer_rounds[-1]
        rows[function.logical_id].update(
            peer_p50_us=peer["p50_us"], peer_p99_us=peer["p99_us"],
            ratio_p50=round(rows[function.logical_id]["p50_us"] / peer["p50_us"], 2),
            ratio_p99=round(rows[function.logical_id]["p99_us"] / peer["p99_us"], 2),
        )  # fmt: skip
    return {
        "calls": CALLS,
        "warmup": WARMUP,
        "handlers": rows,
        "peer_answer": peer_rounds[0]["answer"],
        "target_p50_ratio": 1.2,
        "confirmation": confirmation(template, deliveries, strings, rows, peer_env),
    }


# The platform webhooks are timed without their status query (every other delivery of the
# run reaches no network); `confirmation` times them with it, against a loopback stand-in.
UNCONFIRMED = {"ECOMMPAY_CONFIRM_BY_QUERY": "false", "MONETIX_CONFIRM_BY_QUERY": "false"}
CONFIRMED = {"ECOMMPAY_CONFIRM_BY_QUERY": "true", "MONETIX_CONFIRM_BY_QUERY": "true"}


def confirmation(
    template: Any,
    deliveries: dict[str, dict[str, Any]],
    strings: dict[str, str],
    unconfirmed: dict[str, Any],
    peer_env: dict[str, str],
) -> dict[str, Any]:
    """Each platform webhook with confirmation by status query on (its default), the query
    answered on 127.0.0.1, beside the same delivery without it (the rows above) and the peer:
    what the query adds on our side. A real provider's round trip comes on top."""
    from local.aws.provision import offline_environment

    callbacks = {
        provider: json.loads(deliveries[f"{provider.capitalize()}WebhookFunction"]["body"])
        for provider in ("ecommpay", "monetix")
    }
    rows: dict[str, Any] = {}
    with StatusStandIn(callbacks) as stand_in:
        for provider in callbacks:
            name = f"{provider.capitalize()}WebhookFunction"
            function = next(f for f in template.functions() if f.logical_id == name)
            peer = _time(PEER, deliveries[PEER], peer_env, NEUTRAL, strings)
            gate = {f"{provider.upper()}_GATE_URL": stand_in.url(provider)}
            variables = offline_environment(template, function) | CONFIRMED | gate
            env = lambda_env.environment(lambda_env.task_root(name), variables, name)
            row = _time(name, deliveries[name], env, NEUTRAL, strings)
            without = unconfirmed[name]["p50_us"]
            rows[name] = row | {
                "unconfirmed_p50_us": without,
                "ratio_to_unconfirmed_p50": round(row["p50_us"] / without, 2),
                "ratio_p50": round(row["p50_us"] / peer["p50_us"], 2),
            }
    return rows
