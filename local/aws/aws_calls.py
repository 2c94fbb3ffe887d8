"""Records every AWS API call a function makes, keyed by the function (its template logical
id), as IAM sees it: the action(s) the call needs and the resource ARN(s) it touches.

A botocore `before-parameter-build` hook registered for every session created afterwards
(boto3's, Powertools') finds the calling function: the one an `acting_as` block names (the
local runtime's front door, stream pollers and schedules invoke every handler in one, and so
does the integration tier's `handlers` fixture: a handler built by the layer's route shapes
runs code of `paygate.routes`, not of its own module), else the frame of a handler module
`functions.<name>.app` on the stack. Calls made outside any handler (test set-up, moto
provisioning, the pollers' own reads of the stream and the subscriber: the Lambda service's
work, not the function's) are not recorded.

`PAYGATE_AWS_CALLS_FILE=<path>` makes `install_from_environment()` append one JSON line per
call to that file: the test session sets it for its own process (integration tier, handlers
in-process) and the local runtime inherits it (e2e tier, handlers in the child process), so
tests/iam/ reads both tiers from one file."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import FrameType
from typing import Any

from local.aws.template import load_template

ENVIRONMENT_VARIABLE = "PAYGATE_AWS_CALLS_FILE"
_HANDLER_MODULE = re.compile(r"^functions\.\w+\.app$")
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_lock = threading.Lock()
_installed: list[Path] = []
# A context variable, so that a handler's own threads (each run in a copy of its context, as
# `paygate.dispatch.in_threads` does) are recorded as the same function.
_acting: ContextVar[str | None] = ContextVar("paygate_acting_as", default=None)


def _function_of_stack() -> str | None:
    """The logical id an `acting_as` block names on this thread, else that of the handler
    module on the current thread's stack, else None."""
    acting = _acting.get()
    if acting is not None:
        return acting
    modules = {f.module: f.logical_id for f in load_template().functions()}
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if _HANDLER_MODULE.match(name):
            return modules.get(name, name)
        frame = frame.f_back
    return None


@contextmanager
def acting_as(logical_id: str) -> Iterator[None]:
    """Record the calls made in this block (on this thread) as `logical_id`'s: one
    invocation of that function, or a test that drives a function's own wiring without its
    handler module (e.g. the reconcile job with a later clock)."""
    token = _acting.set(logical_id)
    try:
        yield
    finally:
        _acting.reset(token)


def _dynamodb_table_arn(region: str, account: str, table: str) -> str:
    return (
        table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    )


def secret_arn(region: str, account: str, secret_id: str) -> str:
    """A secret's ARN without the random six-character suffix AWS appends (IAM matches the
    template's `!Ref` of the secret, which is that full ARN, in AWS)."""
    if secret_id.startswith("arn:"):
        return re.sub(r"-[A-Za-z0-9]{6}$", "", secret_id)
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}"


def _dynamodb(operation: str, params: dict[str, Any], region: str, account: str) -> list[Any]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        needs = []
        for item in params.get("TransactItems", []):
            ((kind, detail),) = item.items()
            arn = _dynamodb_table_arn(region, account, detail["TableName"])
            needs.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", arn))
        return needs
    if operation in ("BatchWriteItem", "BatchGetItem"):
        tables = params.get("RequestItems", {})
        return [(f"dynamodb:{operation}", _dynamodb_table_arn(region, account, t)) for t in tables]
    name: str | None = params.get("TableName")
    if name is None:
        return [(f"dynamodb:{operation}", "*")]
    arn = _dynamodb_table_arn(region, account, name)
    if params.get("IndexName"):
        arn = f"{arn}/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", arn)]


def required(
    service: str, operation: str, params: dict[str, Any], region: str, account: str
) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs the call needs. Transactions need the per-item
    actions (there is no IAM action for TransactWriteItems); SNS PublishBatch needs
    sns:Publish, SQS SendMessageBatch sqs:SendMessage. A service without a rule here answers
    resource `?`, which no policy allows: a new kind of call has to be taught here before a
    test can pass."""
    if service == "dynamodb":
        return _dynamodb(operation, params, region, account)
    if service == "secretsmanager":
        return [(f"{service}:{operation}", secret_arn(region, account, params["SecretId"]))]
    if service == "sns":
        action = "sns:Publish" if operation in ("Publish", "PublishBatch") else f"sns:{operation}"
        return [(action, params.get("TopicArn") or params.get("TargetArn") or "?")]
    if service == "sqs":  # a batch call needs its single-message action
        name = str(params.get("QueueUrl", "?")).rstrip("/").rsplit("/", 1)[-1]
        action = operation.removesuffix("Batch")
        return [(f"sqs:{action}", f"arn:aws:sqs:{region}:{account}:{name}")]
    if service == "apigatewaymanagementapi":  # the template's one WebSocket API, stage local
        api = next(iter(load_template().of_type("AWS::ApiGatewayV2::Api")), "?")
        verb = {"PostToConnection": "POST", "DeleteConnection": "DELETE"}.get(operation, "GET")
        connection = params.get("ConnectionId", "?")
        resource = f"arn:aws:execute-api:{region}:{account}:{api}/local/{verb}/@connections/"
        return [("execute-api:ManageConnections", resource + connection)]
    return [(f"{service}:{operation}", "?")]


def _write(function: str, call: str, needs: list[tuple[str, str]]) -> None:
    line = {"function": function, "call": call, "needs": needs}
    with _lock, _installed[0].open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(line) + "\n")


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "")


def _record(model: Any, params: dict[str, Any], **_: Any) -> None:
    function = _function_of_stack()
    if function is None or not _installed:
        return
    from local.aws.provision import ACCOUNT

    service = model.service_model.service_name
    needs = required(service, model.name, params, _region(), ACCOUNT)
    _write(function, f"{service}:{model.name}", needs)


def _record_cached_secret_reads() -> None:
    """In Lambda every function has its own Powertools secret cache; in one process (a test
    session, the local runtime) a secret one function read is answered from the shared
    cache to the next without a call. Each `parameters.get_secret` is recorded as the
    GetSecretValue it is in the function's own container."""
    from aws_lambda_powertools.utilities import parameters

    from local.aws.provision import ACCOUNT

    original = parameters.get_secret

    def get_secret(name: str, *args: Any, **kwargs: Any) -> Any:
        function = _function_of_stack()
        if function is not None:
            arn = secret_arn(_region(), ACCOUNT, name)
            needs = [("secretsmanager:GetSecretValue", arn)]
            _write(function, "secretsmanager:GetSecretValue (parameters.get_secret)", needs)
        return original(name, *args, **kwargs)

    parameters.get_secret = get_secret


def install(path: Path) -> None:
    """Append every function's AWS calls to `path` from now on (once per process)."""
    import botocore.handlers

    with _lock:
        if _installed:
            return
        _installed.append(path)
    # `before-parameter-build` receives the call's API parameters, once per call (not per
    # retry), before they are serialised.
    botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _record))
    _record_cached_secret_reads()


def install_from_environment() -> None:
    path = os.environ.get(ENVIRONMENT_VARIABLE)
    if path:
        install(Path(path))


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
