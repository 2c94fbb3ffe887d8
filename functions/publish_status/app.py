"""DynamoDB stream → SNS: one `payment.status_changed` message per committed status change.

Powertools BatchProcessor reports partial failures; the event source mapping bisects and
retries, then sends what still fails to the DLQ (template.yaml)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.observability import logger, metrics, tracer
from paygate.publisher import status_change
from paygate.settings import PublisherSettings, load_settings

settings = load_settings(PublisherSettings)
publisher = wiring.status_publisher(settings)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method(capture_response=False)
def publish_record(record: DynamoDBRecord) -> None:
    images = record.dynamodb
    event = status_change(
        images.old_image if images else None, images.new_image if images else None
    )
    if event is not None:
        publisher.publish(event)
        logger.info("status published", extra={"event_id": event.event_id, "status": event.status})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=publish_record, processor=processor, context=context
    )
