"""POST /webhooks/smartglocal: verify X-PARTNER-SIGN over the raw body, store the webhook once,
apply it (auto-confirming when the payment asked for it), answer 200."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import WEBHOOK_ERROR_RESPONSES, create_resolver
from paygate.json_body import body_bytes
from paygate.observability import logger, metrics
from paygate.providers.smartglocal.gateway import WEBHOOK_ACK, WEBHOOK_PATH
from paygate.providers.smartglocal.signing import SIGN_HEADER
from paygate.settings import SmartglocalSettings, load_settings

settings = load_settings(SmartglocalSettings)
gateway = wiring.smartglocal(settings)
app = create_resolver()


@app.post(
    WEBHOOK_PATH,
    summary="Smart Glocal webhook",
    responses={200: {"description": 'Acknowledged: `{"status": "ok"}`'}, **WEBHOOK_ERROR_RESPONSES},
    tags=["webhooks"],
)
def smartglocal_webhook() -> Response[dict[str, str]]:
    metrics.add_dimension(name="provider", value="smartglocal")
    event = app.current_event
    raw = body_bytes(event.body, bool(event.is_base64_encoded))  # exactly the bytes received
    outcome = gateway.ingest_webhook(raw, event.headers.get(SIGN_HEADER))
    metrics.add_metric(name=f"Webhook_{outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info("smartglocal webhook ingested", extra={"outcome": outcome})
    return Response(200, content_types.APPLICATION_JSON, WEBHOOK_ACK)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
