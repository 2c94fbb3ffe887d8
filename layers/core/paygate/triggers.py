"""The functions no API route calls, as shapes with the Powertools stack applied once (Logger
with the Lambda context, Metrics): the DynamoDB stream → SNS status publisher, the scheduled
reconcile dispatcher and its queues' worker. Imports only what those functions loaded before
(no resolver)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import deadline
from paygate.observability import logger, metrics
from paygate.startup import ready

if TYPE_CHECKING:  # each shape imports its own at run time: neither loads the other's
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

    from paygate.dispatch import Dispatcher, Worker
    from paygate.domain import Payment
    from paygate.events import StatusChanged
    from paygate.publisher import StatusPublisher
    from paygate.push import StatusPush


def status_stream(
    publisher: StatusPublisher, processor: BatchProcessor, push: StatusPush | None = None
) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
    """One `payment.status_changed` message per committed status change. Powertools'
    BatchProcessor turns each record into its event (a record that cannot be read is a
    failure); the events are then published ten per PublishBatch call, and every record whose
    event was not accepted is added to the partial batch failures. The event source mapping
    bisects and retries, then sends what still fails to the DLQ (template.yaml). With `push`,
    the changed payments are also pushed to their browsers' WebSocket connections, on a
    thread of its own while SNS is published (`paygate.push`: best effort, never a failure).

    The function makes `processor` (a DynamoDB-stream BatchProcessor) itself, importing the
    batch utility before pydantic: imported after it, the utility also loads Powertools'
    parser models at cold start."""
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

    from paygate.events import StatusChanged
    from paygate.publisher import changed_payment

    def to_change(record: DynamoDBRecord) -> tuple[StatusChanged, Payment] | None:
        images = record.dynamodb
        old, new = (images.old_image, images.new_image) if images else (None, None)
        changed = changed_payment(old, new)
        return None if changed is None else (StatusChanged.of(*changed), changed[0])

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        with processor(records=event["Records"], handler=to_change, lambda_context=context):
            outcomes = processor.process()
        ready = [
            (result[0], record) for kind, result, record in outcomes if kind == "success" and result
        ]
        payments = [result[1] for kind, result, _ in outcomes if kind == "success" and result]
        pushing = push.start(payments) if push is not None and payments else None
        failed = publisher.publish_batch([event for event, _ in ready])
        if pushing is not None:
            try:
                report = pushing.result()
                metrics.add_metric(name="StatusPushed", unit=MetricUnit.Count, value=report.sent)
                metrics.add_metric(
                    name="StatusPushFailed", unit=MetricUnit.Count, value=report.failed
                )
            except Exception:  # the browsers' poll is the fallback: never a failed record
                logger.exception("status push failed")
        response = processor.response()
        for index in sorted(failed):
            change = DynamoDBRecord(ready[index][1]).dynamodb
            sequence_number = change.sequence_number if change else None
            response["batchItemFailures"].append({"itemIdentifier": sequence_number or ""})
        logger.info("published", extra={"events": len(ready) - len(failed), "failed": len(failed)})
        return response

    ready()
    return lambda_handler


def reconcile_dispatch(
    dispatcher: Dispatcher, limit: int
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """Scheduled (one at a time: reserved concurrency 1): lease up to `limit` due payments per
    schedule shard and send them to their providers' queues; the report and its metrics."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        deadline.start(context)
        report = dispatcher.run(limit)
        metrics.add_metric(name="ReconcileDispatched", unit=MetricUnit.Count, value=report.sent)
        metrics.add_metric(name="ReconcileUnsent", unit=MetricUnit.Count, value=report.unsent)
        return report.answer()

    ready()
    return lambda_handler


def reconcile_queue(
    worker: Worker,
) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
    """A provider queue's batch (SQS event source mapping): each message's leased payment is
    claimed and settled, the batch's payments in parallel, each inside the deadline; a message
    whose payment could not be settled (storage failed, or no time left) is a partial batch
    failure and returns after the visibility timeout. Metrics: `ReconcileLagSeconds` (due →
    settled) per payment, and the counts of checked, expired and silent payments."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from paygate.dispatch import SECONDS_PER_MESSAGE, ReconcileMessage, Settled, in_threads
    from paygate.errors import StorageBusy

    class ParallelBatchProcessor(BatchProcessor):
        """Powertools' SQS batch processor, its records handled in parallel threads."""

        def process(self) -> list[tuple[Any, ...]]:
            return in_threads(self._process_record, list(self.records), len(self.records))

    def settle(record: SQSRecord) -> Settled:
        if not deadline.allows(SECONDS_PER_MESSAGE):
            raise StorageBusy("no time left in this invocation to settle the payment; retry")
        return worker.handle(ReconcileMessage.model_validate_json(record.body))

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        deadline.start(context)
        processor = ParallelBatchProcessor(event_type=EventType.SQS)
        with processor(records=event["Records"], handler=settle, lambda_context=context):
            outcomes = processor.process()
        settled = [result for kind, result, _ in outcomes if kind == "success"]
        counts = {"ReconcileChecked": 0, "ReconcileExpired": 0, "ProviderSilent": 0}
        errors = 0
        for outcome in settled:
            if outcome.report is None:
                continue
            counts["ReconcileChecked"] += outcome.report.checked
            counts["ReconcileExpired"] += outcome.report.expired
            counts["ProviderSilent"] += outcome.report.silent
            errors += len(outcome.report.errors)
            if outcome.lag_seconds is not None:
                metrics.add_metric(
                    name="ReconcileLagSeconds", unit=MetricUnit.Seconds, value=outcome.lag_seconds
                )
        for name, value in counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        failed = len(outcomes) - len(settled)
        metrics.add_metric(name="ReconcileErrors", unit=MetricUnit.Count, value=errors + failed)
        return processor.response()

    ready()
    return lambda_handler
