"""DynamoDB stream → SNS: one `payment.status_changed` message per committed status change
(`paygate.triggers.status_stream`: partial batch failures; the event source mapping bisects,
retries, then sends what still fails to the DLQ), and the same changes pushed to the
browsers watching those payments over the WebSocket API (paygate.push)."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from paygate import triggers, wiring
from paygate.settings import PublisherSettings, load_settings

settings = load_settings(PublisherSettings)
publisher = wiring.status_publisher(settings)
push = wiring.status_push(settings)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
lambda_handler = triggers.status_stream(publisher, processor, push)
