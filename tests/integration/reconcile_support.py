"""Reconciliation as deployed, for the integration tier: the dispatcher's wiring (acting as
ReconcileDispatchFunction) leases the due payments into moto's provider queues, then the
worker's wiring (acting as ReconcileFunction) settles each message, as the queues' event
source mappings would deliver them; one report for the whole pass."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3

from local.aws.aws_calls import acting_as
from paygate import wiring
from paygate.dispatch import DispatchReport, ReconcileMessage
from paygate.domain import utcnow
from paygate.reconcile import ReconcileReport
from paygate.settings import DispatchSettings, ReconcileSettings, load_settings


class FanOut:
    """One dispatcher run and the workers' handling of every message it sent."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.dispatcher = wiring.dispatcher(load_settings(DispatchSettings))
        self.dispatcher.clock = clock
        self.worker = wiring.reconcile_worker(load_settings(ReconcileSettings))
        self.worker.reconciler.clock = clock
        self.sqs = boto3.client("sqs")
        self.dispatched = DispatchReport()

    def dispatch(self, limit: int = 1000) -> DispatchReport:
        with acting_as("ReconcileDispatchFunction"):
            self.dispatched = self.dispatcher.run(limit)
        return self.dispatched

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """Every message waiting in the provider queues: (queue URL, message), received."""
        found = []
        for url in self.dispatcher.queues.values():
            while True:
                page = self.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600
                ).get("Messages", [])
                if not page:
                    break
                found += [(url, message) for message in page]
        return found

    def work(self) -> ReconcileReport:
        """Settle every waiting message (deleted once handled); the summed report."""
        total = ReconcileReport()
        for queue, message in self.messages():
            with acting_as("ReconcileFunction"):
                settled = self.worker.handle(ReconcileMessage.model_validate_json(message["Body"]))
            self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            if settled.report is not None:
                add(total, settled.report)
        return total

    def run(self, limit: int = 1000) -> ReconcileReport:
        self.dispatch(limit)
        return self.work()


def add(total: ReconcileReport, part: ReconcileReport) -> None:
    for name in ("checked", "changed", "expired", "silent", "rescheduled", "tails_ended"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.errors += part.errors


def later_clock(minutes: float) -> Callable[[], datetime]:
    return lambda: utcnow() + timedelta(minutes=minutes)
