"""POST /v1/payments/{id}/clarification: send the fields the ecommpay platform asked for
(`next_action.type == "clarification"`) to Gate `/v2/payment/clarification`."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.api_models import ClarificationRequest, PaymentResponse
from paygate.observability import logger, metrics
from paygate.settings import PlatformActionSettings, load_settings

settings = load_settings(PlatformActionSettings)
gateways = wiring.platform_gateways(settings)
app = create_resolver()

PaymentId = Annotated[str, Path(min_length=1, max_length=64, description="Our payment id")]


@app.post(
    "/v1/payments/<id>/clarification",
    summary="Send the data the provider asked for (ecommpay/Monetix clarification)",
    description="The payment stays `requires_action` until the provider's next callback "
    "(e.g. the redirect) arrives: poll GET /v1/payments/{id}. Card fields are sent to the "
    "provider only, never stored.",
    responses={**ERROR_RESPONSES},
    tags=["payments"],
)
def clarify_payment(id: PaymentId, request: ClarificationRequest) -> PaymentResponse:  # noqa: A002
    payment = gateways.clarify(id, request)
    metrics.add_metric(name="ClarificationsSent", unit=MetricUnit.Count, value=1)
    logger.info("clarification sent", extra={"payment_id": payment.id})
    return PaymentResponse.of(payment)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
