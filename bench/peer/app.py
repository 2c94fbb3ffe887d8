"""The peer: a plain Powertools REST handler with the features a paygate webhook function
has, written the way the Powertools docs write one. `make bench` times it beside every
function, in the same clean environment and the same run, as the reference.

Logger, Tracer (a plain Powertools handler traces with it: the X-Ray SDK, patching every
supported library, as `Tracer()` does by default), Metrics, the REST resolver with request
validation, one pydantic model, and one DynamoDB client created at import (the usual
place). One `put_item` per request, as a webhook's one write."""

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)
dynamodb = boto3.client("dynamodb")
TABLE = os.environ.get("PAYMENTS_TABLE", "PaymentsTable")


class Notification(BaseModel):
    status: str
    tradeNo: str  # the provider's field name
    amount: str
    timestamp: str
    sign: str


@app.post("/webhooks/peer")
@tracer.capture_method
def notify(notification: Notification) -> Response[str]:
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"payment#{notification.tradeNo}"},
            "sk": {"S": "webhook"},
            "status": {"S": notification.status},
            "amount": {"N": notification.amount},
        },
    )
    metrics.add_metric(name="WebhookApplied", unit=MetricUnit.Count, value=1)
    logger.info("notify stored", extra={"payment_id": notification.tradeNo})
    return Response(200, content_types.TEXT_PLAIN, "OK")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
