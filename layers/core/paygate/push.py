"""Status push: a shopper's browser learns of its payment's status changes over API Gateway's
WebSocket API instead of polling `GET /v1/payments/{id}` (docs/checkout.md, "Status without
polling").

- `$connect` (`ConnectionGate.connect`): the browser opens `wss://<api>/<stage>?client_secret=
  <its payment's client secret>`. A value that is not a client secret the gateway issued
  (`paygate.client_secrets.payment_of`, checked without a table read) is refused, and API
  Gateway refuses the upgrade; a valid one is stored under its payment for `CONNECTION_TTL`.
- `status` (`ConnectionGate.status`): the browser sends `{"action": "status", "client_secret":
  …}` once connected (and after each reconnect) and gets the payment's current document as
  the route's answer: what it may have missed, and the end of its window.
- `$disconnect` (`ConnectionGate.disconnect`): the connection is deleted.
- The stream publisher (`StatusPush.push`) posts each changed payment's status document
  (`paygate.status_message.StatusMessage`: the payment as the API answers it, no customer
  data, with the end of its customer's window) to that payment's connections: one Query per
  payment, posts in parallel (`PARALLEL_PUSHES`), at most `MAX_CONNECTIONS_PER_PAYMENT`
  each; a connection API Gateway says is gone is deleted. A push that fails is logged and
  counted, never retried: the browser's slow poll is the fallback, and SNS (the outbox) is
  never held back by it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from paygate import aws_clients, clock
from paygate.client_secrets import ClientSecretKey, payment_of
from paygate.domain import Kind, Payment
from paygate.lifecycle import LifecyclePolicy, WaitWindows
from paygate.observability import logger
from paygate.repository import ConnectionRepository

if TYPE_CHECKING:  # built on first use: the publisher's cold start does not build the API models
    from paygate.status_message import StatusMessage

# API Gateway closes a WebSocket connection after two hours at most: a connection item that
# `$disconnect` did not delete (a lost event) is gone from the table by then (TTL).
CONNECTION_TTL = timedelta(hours=2)
# A payment is watched by one checkout tab, sometimes a few (a phone and a laptop); more
# connections than this on one payment are not pushed to (they poll).
MAX_CONNECTIONS_PER_PAYMENT = 10
# Payments of one stream batch pushed at once (one connection each from the client's pool,
# `aws_clients.MAX_POOL_CONNECTIONS`).
PARALLEL_PUSHES = 10
CLIENT_SECRET_PARAMETER = "client_secret"  # noqa: S105 (a parameter name)


class Refused(Exception):
    """A `$connect` without a valid client secret."""


class ConnectionGate:
    """`$connect`, `status` and `$disconnect`: who may listen to a payment, for how long,
    and its current document."""

    def __init__(
        self,
        connections: ConnectionRepository,
        key: Callable[[], ClientSecretKey],
        read: Callable[[str], Payment],
        waits: WaitWindows | None = None,
    ) -> None:
        self.connections = connections
        self.key = key
        self.read = read  # raises PaymentNotFound
        self.policy = LifecyclePolicy(waits=waits or WaitWindows())

    def payment_id(self, secret: object) -> str:
        """The payment `secret` was issued for. Raises `Refused` when `secret` is missing or
        not a valid client secret."""
        payment_id = payment_of(secret, self.key()) if isinstance(secret, str) else None
        if payment_id is None:
            raise Refused(
                f"{CLIENT_SECRET_PARAMETER} is missing or not a valid client secret: connect "
                "with the client_secret the payment's create returned"
            )
        return payment_id

    def connect(self, connection_id: str, secret: object) -> str:
        """Store `connection_id` under the payment `secret` was issued for; that payment's id."""
        payment_id = self.payment_id(secret)
        self.connections.add(connection_id, payment_id, clock.now() + CONNECTION_TTL)
        return payment_id

    def status(self, secret: object) -> StatusMessage:
        """The current document of the payment `secret` was issued for."""
        from paygate.status_message import StatusMessage

        payment = self.read(self.payment_id(secret))
        if payment.kind is not Kind.PAYMENT:
            raise Refused("a client secret names a payment")
        return StatusMessage.of(payment, self.policy)

    def disconnect(self, connection_id: str) -> None:
        self.connections.remove(connection_id)


@dataclass
class PushReport:
    sent: int = 0
    gone: int = 0
    failed: int = 0


class StatusPush:
    """Posts status documents to the connections of the payments that changed."""

    def __init__(
        self,
        connections: ConnectionRepository,
        endpoint: str,
        waits: WaitWindows | None = None,
        client: Any = None,
    ) -> None:
        self.connections = connections
        self.endpoint = endpoint
        self.policy = LifecyclePolicy(waits=waits or WaitWindows())
        self._client = client
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="status-push")

    @cached_property
    def client(self) -> Any:
        return self._client or aws_clients.client(
            "apigatewaymanagementapi", endpoint_url=self.endpoint
        )

    def start(self, payments: Sequence[Payment]) -> Future[PushReport]:
        """`push` on a thread of its own (the caller publishes to SNS meanwhile), in a copy of
        this context (the invocation's deadline goes with it)."""
        context = contextvars.copy_context()
        return self._background.submit(context.run, self.push, payments)

    def push(self, payments: Sequence[Payment]) -> PushReport:
        """Post each payment's newest status document to its connections."""
        newest: dict[str, Payment] = {}
        for payment in payments:
            if payment.kind is not Kind.PAYMENT:
                continue
            known = newest.get(payment.id)
            if known is None or payment.version > known.version:
                newest[payment.id] = payment
        report = PushReport()
        if not newest:
            return report
        _ = self.client  # made once, before the threads share it
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=min(PARALLEL_PUSHES, len(newest))) as pool:
            outcomes = pool.map(
                lambda payment: context.copy().run(self._push_one, payment), newest.values()
            )
            for sent, gone, failed in outcomes:
                report.sent += sent
                report.gone += gone
                report.failed += failed
        logger.info("status pushed", extra={"push": report.__dict__})
        return report

    def _push_one(self, payment: Payment) -> tuple[int, int, int]:
        """(sent, gone, failed) for one payment's connections."""
        try:
            connections = self.connections.of_payment(payment.id, MAX_CONNECTIONS_PER_PAYMENT)
        except Exception:
            logger.exception("status push: connections not read", extra={"payment": payment.id})
            return 0, 0, 1
        from paygate.status_message import StatusMessage

        data = StatusMessage.of(payment, self.policy).model_dump_json().encode()
        sent = gone = failed = 0
        for connection_id in connections:
            try:
                self.client.post_to_connection(ConnectionId=connection_id, Data=data)
                sent += 1
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "GoneException":
                    logger.warning("status push failed", extra={"error": str(exc)})
                    failed += 1
                    continue
                gone += 1
                try:
                    self.connections.remove(connection_id)
                except Exception:  # its TTL deletes it later
                    logger.exception("gone connection not deleted")
            except Exception:
                logger.exception("status push failed", extra={"payment": payment.id})
                failed += 1
        return sent, gone, failed
