"""DynamoDB stream → SNS: one `payment.status_changed` message per committed status change.

Powertools' BatchProcessor turns each record into its event (a record that cannot be read is a
failure); the events are then published ten per PublishBatch call, and every record whose
event was not accepted is added to the partial batch failures. The event source mapping
bisects and retries, then sends what still fails to the DLQ (template.yaml)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.events import StatusChanged
from paygate.observability import logger, metrics
from paygate.publisher import status_change
from paygate.settings import PublisherSettings, load_settings

settings = load_settings(PublisherSettings)
publisher = wiring.status_publisher(settings)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def to_event(record: DynamoDBRecord) -> StatusChanged | None:
    images = record.dynamodb
    return status_change(images.old_image if images else None, images.new_image if images else None)


def publish(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    with processor(records=event["Records"], handler=to_event, lambda_context=context):
        outcomes = processor.process()
    ready = [(result, record) for kind, result, record in outcomes if kind == "success" and result]
    failed = publisher.publish_batch([event for event, _ in ready])
    response = processor.response()
    for index in sorted(failed):
        sequence_number = ready[index][1]["dynamodb"]["SequenceNumber"]
        response["batchItemFailures"].append({"itemIdentifier": sequence_number})
    logger.info("published", extra={"events": len(ready) - len(failed), "failed": len(failed)})
    return response


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return publish(event, context)
