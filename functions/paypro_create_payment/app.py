"""POST /v1/paypro/payments: create a VietQR payin at Paypro."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver, public_base_url
from paygate.api_models import PaymentResponse, PayproPaymentRequest
from paygate.idempotency import IdempotencyKey, caller_scope
from paygate.observability import logger, metrics
from paygate.providers.paypro.gateway import WEBHOOK_PATH
from paygate.settings import IdempotencySettings, PayproCheckoutSettings, load_settings

settings = load_settings(PayproCheckoutSettings)
gateway = wiring.paypro_checkout(settings)
creates = wiring.idempotent_creates(load_settings(IdempotencySettings))
app = create_resolver()


@app.post(
    "/v1/paypro/payments",
    summary="Create a VietQR payment (Paypro)",
    responses={
        201: {
            "description": "Payment created; next_action holds the payment link",
            "content": {"application/json": {"model": PaymentResponse}},
        },
        **ERROR_RESPONSES,
    },
    tags=["payments"],
)
def create_payment(request: PayproPaymentRequest, idempotency_key: IdempotencyKey) -> Response[str]:
    recorded = gateway.prepare_payment(request)  # checked; written with the idempotency record

    def create() -> Response[PaymentResponse]:
        context = app.current_event.request_context
        base_url = public_base_url(context.domain_name, context.stage, settings.webhook_base_url)
        payment = gateway.create_payment(request, base_url + WEBHOOK_PATH, recorded)
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
