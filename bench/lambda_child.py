"""Runs inside the clean Lambda-like environment (bench/lambda_env.py) through runpy: only
the standard library, .venv-bench, the task root and the layer are importable.

    bare                 `boto3.client("dynamodb")`, the baseline
    empty                nothing: the interpreter's own start
    cold <clients>       import the handler module `app`, then create the AWS clients the
                         function's first invocation creates (comma-separated: dynamodb,
                         secrets, http, sns), as our code and Powertools create them
    first <spec.json>    import, then one invocation with the spec's event, every AWS call
                         answered at once as in `warm`
    warm <spec.json>     answer every AWS call at once in-process (a botocore `before-send`
                         stand-in, no network), invoke the handler with the spec's event
                         `warmup` times, then time `calls` invocations; write the samples
                         (µs) and the last answer to the spec's `out` file

The timed modes (all but `warm`) end with `os._exit` once their work is done: a Lambda
execution environment is frozen and later discarded, never shut down through the
interpreter's finalization, so the teardown of modules and the final garbage collection (in
the peer's process a quarter to a third of its CPU) are not part of any cold start measured here.
"""

import json
import os
import sys
import time
from collections.abc import Callable


def _cold(clients: str) -> None:
    import app  # type: ignore[import-not-found]  # noqa: F401 - the cold init itself

    wanted = [c for c in clients.split(",") if c]
    if "dynamodb" in wanted:  # paygate.repository.PaymentRepository.client
        import boto3

        boto3.client("dynamodb")
    if "secrets" in wanted:  # what paygate.credentials.load_credentials does first
        from paygate.credentials import secrets_provider

        secrets_provider()
    if "http" in wanted:  # paygate.wiring.http_client, built on the first provider call
        from paygate.providers.http import build_client

        build_client(3.05, 10.0, 1, None)
    if "sns" in wanted:  # paygate.publisher.StatusPublisher.client
        import boto3

        boto3.client("sns")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: object) -> object:
        yield self.body


def _instant_aws(secrets: dict[str, str]) -> None:
    """Every session created from now on answers its calls at once: DynamoDB accepts every
    write and finds nothing, Secrets Manager returns the dev secret named by SecretId."""
    import botocore.handlers
    from botocore.awsrequest import AWSResponse

    def answer(request: object, **_: object) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")  # type: ignore[attr-defined]
        target = target.decode() if isinstance(target, bytes) else str(target)
        body: dict[str, object] = {}
        if target.startswith("secretsmanager."):
            secret_id = json.loads(request.body)["SecretId"]  # type: ignore[attr-defined]
            body = {"Name": secret_id, "ARN": secret_id, "SecretString": secrets[secret_id]}
        elif target.endswith((".Query", ".Scan")):
            body = {"Items": [], "Count": 0, "ScannedCount": 0}
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
        raw = json.dumps(body).encode()
        return AWSResponse(request.url, 200, headers, _Raw(raw))  # type: ignore[attr-defined]

    botocore.handlers.BUILTIN_HANDLERS.append(("before-send", answer))


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def _first(spec_path: str) -> None:
    """Import, then the first invocation (its clients are created inside it)."""
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    _instant_aws(spec["secrets"])
    import app

    app.lambda_handler(spec["event"], _Context())


def _warm(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    _instant_aws(spec["secrets"])
    import app

    context, event = _Context(), spec["event"]
    answer = None
    for _ in range(spec["warmup"]):
        answer = app.lambda_handler(event, context)
    samples = []
    for _ in range(spec["calls"]):
        started = time.perf_counter_ns()
        app.lambda_handler(event, context)
        samples.append((time.perf_counter_ns() - started) / 1000)
    with open(spec["out"], "w", encoding="utf-8") as handle:
        json.dump({"samples_us": samples, "answer": answer}, handle, default=str)


def _end_as_lambda_would() -> None:
    """Stop here, as a discarded execution environment does: no interpreter finalization."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _at_depth(frames: int, work: Callable[[], None]) -> None:
    """Run `work` `frames` calls deeper than here."""
    if frames <= 0:
        work()
    else:
        _at_depth(frames - 1, work)


def _main(mode: str, argument: str) -> None:
    if mode == "cold":
        _cold(argument)
    elif mode == "first":
        _first(argument)
    elif mode == "bare":
        import boto3

        boto3.client("dynamodb")
    elif mode == "empty":
        pass
    elif mode == "warm":
        _warm(argument)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    mode, argument = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    _at_depth(int(os.environ.get("BENCH_STACK_DEPTH", "0")), lambda: _main(mode, argument))
    if mode != "warm" and os.environ.get("BENCH_FINALIZE") != "1":
        _end_as_lambda_would()
