"""POST /webhooks/monetix: verify the callback's signature, store it once, apply it to the
payment named by `payment.id`, answer 200 (the platform retries anything else)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import WEBHOOK_ERROR_RESPONSES, create_resolver
from paygate.json_body import body_bytes
from paygate.observability import logger, metrics
from paygate.providers.platform.gateway import WEBHOOK_ACK
from paygate.settings import MonetixSettings, load_settings

settings = load_settings(MonetixSettings)
gateway = wiring.monetix(settings)
app = create_resolver()


@app.post(
    "/webhooks/monetix",
    summary="monetix callback",
    responses={200: {"description": 'Acknowledged: `{"status": "ok"}`'}, **WEBHOOK_ERROR_RESPONSES},
    tags=["webhooks"],
)
def monetix_webhook() -> Response[dict[str, str]]:
    metrics.add_dimension(name="provider", value="monetix")
    event = app.current_event
    outcome = gateway.ingest_callback(body_bytes(event.body, bool(event.is_base64_encoded)))
    metrics.add_metric(name=f"Webhook_{outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info("monetix callback ingested", extra={"outcome": outcome})
    return Response(200, content_types.APPLICATION_JSON, WEBHOOK_ACK)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
