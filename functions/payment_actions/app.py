"""POST /v1/payments/{id}/confirm and /cancel: the merchant's decision on a payment held in
`requires_confirmation` (Smart Glocal `ready_to_confirm`, confirmation `manual`)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.api_models import PaymentResponse
from paygate.observability import logger, metrics
from paygate.settings import SmartglocalSettings, load_settings

settings = load_settings(SmartglocalSettings)
gateway = wiring.smartglocal(settings)
app = create_resolver()

PaymentId = Annotated[str, Path(min_length=1, max_length=64, description="Our payment id")]


@app.post(
    "/v1/payments/<id>/confirm",
    summary="Confirm a payment waiting for confirmation",
    responses={**ERROR_RESPONSES},
    tags=["payments"],
)
def confirm_payment(id: PaymentId) -> PaymentResponse:  # noqa: A002
    payment = gateway.confirm(id)
    metrics.add_metric(name="PaymentsConfirmed", unit=MetricUnit.Count, value=1)
    logger.info("payment confirmed", extra={"payment_id": payment.id, "status": payment.status})
    return PaymentResponse.of(payment)


@app.post(
    "/v1/payments/<id>/cancel",
    summary="Cancel a payment waiting for confirmation",
    responses={**ERROR_RESPONSES},
    tags=["payments"],
)
def cancel_payment(id: PaymentId) -> PaymentResponse:  # noqa: A002
    payment = gateway.cancel(id)
    metrics.add_metric(name="PaymentsCancelled", unit=MetricUnit.Count, value=1)
    logger.info("payment cancelled", extra={"payment_id": payment.id, "status": payment.status})
    return PaymentResponse.of(payment)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
