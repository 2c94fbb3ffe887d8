"""POST /webhooks/paypro: verify a Paypro notify, store it once, apply it, answer `OK`."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import WEBHOOK_ERROR_RESPONSES, create_resolver
from paygate.json_body import body_bytes
from paygate.observability import logger, metrics
from paygate.providers.paypro.gateway import NOTIFY_ACK, WEBHOOK_PATH
from paygate.settings import PayproSettings, load_settings

settings = load_settings(PayproSettings)
gateway = wiring.paypro_notifications(settings)
app = create_resolver()


@app.post(
    WEBHOOK_PATH,
    summary="Paypro payment notify",
    responses={200: {"description": "Acknowledged: plain `OK`"}, **WEBHOOK_ERROR_RESPONSES},
    tags=["webhooks"],
)
def paypro_notify() -> Response[str]:
    metrics.add_dimension(name="provider", value="paypro")
    event = app.current_event
    outcome = gateway.ingest_notify(body_bytes(event.body, bool(event.is_base64_encoded)))
    metrics.add_metric(name=f"Webhook_{outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info("paypro notify ingested", extra={"outcome": outcome})
    return Response(200, content_types.TEXT_PLAIN, NOTIFY_ACK)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
