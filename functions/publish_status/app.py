"""DynamoDB stream → SNS: one `payment.status_changed` message per committed status change
(`paygate.triggers.status_stream`: partial batch failures; the event source mapping bisects,
retries, then sends what still fails to the DLQ)."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from paygate import triggers, wiring
from paygate.settings import PublisherSettings, load_settings

publisher = wiring.status_publisher(load_settings(PublisherSettings))
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
lambda_handler = triggers.status_stream(publisher, processor)
