"""The one botocore configuration of every AWS client the layer makes (DynamoDB, SNS, Secrets
Manager, SQS when a function needs it, API Gateway's WebSocket management API), sized so that
no call outlives the invocation's deadline (`paygate.deadline`).

The arithmetic. The shortest function timeout is 25 s (template.yaml, Globals) and
`DEADLINE_MARGIN_SECONDS` keeps 3 s of it, so the smallest deadline budget is 22 s. One
attempt waits at most `CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS` = 1 + 2 = 3 s (botocore's
read timeout bounds each wait for bytes; DynamoDB, SNS and Secrets Manager answer these small
requests in one read). botocore's "standard" retry mode makes at most `MAX_ATTEMPTS` = 3
attempts (set as `total_max_attempts`: botocore reads `max_attempts` as retries and adds one)
with a jittered backoff of at most min(2^(i-1), 20) s before retry i: 1 + 2 = 3 s.
One call's worst case is therefore 3 * 3 + 3 = 12 s (`worst_case_seconds`), which fits the
22 s budget with 10 s to spare (botocore's legacy mode, used before: 10 attempts for DynamoDB,
5 elsewhere, 60 s connect and read timeouts, up to 25.5 s of backoff: about 20 minutes).

A call can still start late in an invocation, so every client also carries an attempt gate
(`client`): botocore emits `before-send` before every attempt, and the gate refuses one that
could outlive its limit, raising `NoTimeLeft` (a `StorageBusy`: 503 with Retry-After for the
API, a failed record for the stream). botocore's retries (its `amz-sdk-request` header says
`attempt=2` or more) must end before the deadline: `attempt_seconds()` = 3 s left at least. A
call's first attempt must end before the function's own timeout, which the margin keeps
beyond the deadline: 3 s left of budget and margin together, so with the default margin a
first attempt may start until the deadline (as a write recording an answer the provider gave
must: docs/lifecycle.md). Only botocore's backoff before a refused retry can pass the
deadline: at most 2 s, inside the 3 s margin (up to 7 s if botocore's newer retries,
AWS_NEW_RETRIES_2026, honour a service's retry-after header). The layer's own retry loop over
DynamoDB's conflicts and throttling (`repository.PaymentRepository._call`) starts another
call only while its pause plus one attempt fits before the deadline (`deadline.allows`).
"""

from __future__ import annotations

import os
import re
from typing import Any

from botocore.config import Config
from botocore.configprovider import NEW_RETRIES_ENABLED

from paygate import deadline
from paygate.errors import StorageBusy

# In AWS the defaults; the local runtime's moto shares a busy laptop's CPU with everything else
# and sets `PAYGATE_AWS_CONNECT_TIMEOUT_SECONDS` / `PAYGATE_AWS_READ_TIMEOUT_SECONDS` higher (the
# attempt gate then stops retries earlier: the deadline still holds).
CONNECT_TIMEOUT_SECONDS = float(os.environ.get("PAYGATE_AWS_CONNECT_TIMEOUT_SECONDS") or 1.0)
READ_TIMEOUT_SECONDS = float(os.environ.get("PAYGATE_AWS_READ_TIMEOUT_SECONDS") or 2.0)
MAX_ATTEMPTS = 3  # botocore's total attempts, the first one included
# botocore's standard mode: rand(0, 1) * min(2^(i-1), 20) s before retry i; with the newer
# retry behaviour on (AWS_NEW_RETRIES_2026), a service's x-amz-retry-after may add up to 5 s.
STANDARD_MAX_BACKOFF_SECONDS = 20.0
RETRY_AFTER_EXTRA_SECONDS = 5.0 if NEW_RETRIES_ENABLED else 0.0
# The pool holds one connection per parallel PublishBatch (`publisher.PARALLEL_BATCHES`).
MAX_POOL_CONNECTIONS = 10

CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    max_pool_connections=MAX_POOL_CONNECTIONS,
)


class NoTimeLeft(StorageBusy):
    """An AWS call (or botocore's retry of one) was not started: it could outlive the deadline."""


def attempt_seconds(config: Config = CONFIG) -> float:
    """The longest one attempt can wait: its connect and read timeouts."""
    return float(config.connect_timeout) + float(config.read_timeout)


def max_backoff_seconds(attempts: int) -> float:
    """botocore standard mode's longest total backoff across `attempts` attempts."""
    return sum(
        min(2.0 ** (retry - 1), STANDARD_MAX_BACKOFF_SECONDS) + RETRY_AFTER_EXTRA_SECONDS
        for retry in range(1, attempts)
    )


def worst_case_seconds(config: Config = CONFIG) -> float:
    """The longest one call can take: every attempt to its timeouts, every backoff at most."""
    retries = config.retries or {}
    if retries.get("mode") != "standard":
        raise ValueError(f"not botocore's standard retries: {retries}")
    # A client's configuration holds `total_max_attempts` (botocore adds one to `max_attempts`).
    attempts = int(retries.get("total_max_attempts") or int(retries["max_attempts"]) + 1)
    return attempts * attempt_seconds(config) + max_backoff_seconds(attempts)


_ATTEMPT = re.compile(r"attempt=(\d+)")


def attempt_number(request: Any) -> int:
    """Which attempt of its call `request` is (botocore's `amz-sdk-request` header; 1 if none)."""
    header = (getattr(request, "headers", None) or {}).get("amz-sdk-request", b"")
    found = _ATTEMPT.search(header.decode() if isinstance(header, bytes) else str(header))
    return int(found.group(1)) if found else 1


def allows_attempt(attempt: int) -> bool:
    """True when attempt `attempt` of a call, at its timeouts, ends in time: a retry before
    the deadline, a first attempt before the function's timeout (deadline plus margin)."""
    slack = 0.0 if attempt > 1 else deadline.margin_seconds()
    return deadline.allows(attempt_seconds() - slack)


def _gate(request: Any = None, **_: Any) -> None:
    """botocore's `before-send` hook: no attempt starts that could outlive its limit."""
    if not allows_attempt(attempt_number(request)):
        raise NoTimeLeft("no time left for an AWS call within the function's deadline; retry")


def gated(client: Any) -> Any:
    """`client` with the attempt gate (registered once per client)."""
    client.meta.events.register("before-send", _gate, unique_id="paygate-deadline-gate")
    return client


def client(
    service: str, session: Any = None, config: Config | None = None, endpoint_url: str | None = None
) -> Any:
    """A client for `service` from `session` (boto3's default session when None) with the
    shared configuration (merged with `config`, e.g. DynamoDB's parameter validation off)
    and the attempt gate; `endpoint_url` for a service without a regional endpoint (API
    Gateway's management API of one WebSocket stage)."""
    from paygate.sessions import default_session

    merged = CONFIG if config is None else CONFIG.merge(config)
    chosen = session or default_session()
    if endpoint_url is None:
        return gated(chosen.client(service, config=merged))
    return gated(chosen.client(service, config=merged, endpoint_url=endpoint_url))
