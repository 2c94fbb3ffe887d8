"""POST /v1/smartglocal/payments: start a Vietnamese e-wallet payment at Smart Glocal."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.api_models import PaymentResponse, SmartglocalPaymentRequest
from paygate.idempotency import IdempotencyKey, caller_scope
from paygate.observability import logger, metrics
from paygate.settings import IdempotencySettings, SmartglocalSettings, load_settings

settings = load_settings(SmartglocalSettings)
gateway = wiring.smartglocal(settings)
creates = wiring.idempotent_creates(load_settings(IdempotencySettings))
app = create_resolver()


@app.post(
    "/v1/smartglocal/payments",
    summary="Create an e-wallet payment (Smart Glocal)",
    responses={
        201: {
            "description": "Payment created (`pending`); the QR deeplink arrives by webhook as "
            "next_action once the payment is confirmed: poll GET /v1/payments/{id}",
            "content": {"application/json": {"model": PaymentResponse}},
        },
        **ERROR_RESPONSES,
    },
    tags=["payments"],
)
def create_payment(
    request: SmartglocalPaymentRequest, idempotency_key: IdempotencyKey
) -> Response[str]:
    recorded = gateway.prepare_payment(request)  # checked; written with the idempotency record

    def create() -> Response[PaymentResponse]:
        payment = gateway.create_payment(request, recorded)
        metrics.add_metric(name="PaymentsCreated", unit=MetricUnit.Count, value=1)
        logger.info("payment created", extra={"payment_id": payment.id, "status": payment.status})
        return Response(201, content_types.APPLICATION_JSON, PaymentResponse.of(payment))

    scope = caller_scope(app.current_event.request_context)
    return creates.respond(
        idempotency_key,
        scope,
        request,
        app.lambda_context,
        create,
        record=gateway.ledger.creation(recorded),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
