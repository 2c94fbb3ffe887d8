"""POST /v1/monetix/payments: start a Vietnamese bank transfer at Monetix
(Gate sale, or a signed Payment Page URL with `"flow": "payment_page"`)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.api_models import MonetixPaymentRequest, PaymentResponse
from paygate.idempotency import IdempotencyKey, caller_scope
from paygate.observability import logger, metrics
from paygate.settings import IdempotencySettings, MonetixSettings, load_settings

settings = load_settings(MonetixSettings)
gateway = wiring.monetix(settings)
creates = wiring.idempotent_creates(load_settings(IdempotencySettings))
app = create_resolver()


@app.post(
    "/v1/monetix/payments",
    summary="Create a Vietnamese bank transfer payment (Monetix)",
    responses={
        201: {
            "description": "Gate: `pending`; the redirect or the transfer instructions arrive "
            "by callback as next_action: poll GET /v1/payments/{id}. Payment Page: "
            "`requires_action` with the signed page URL in next_action.url",
            "content": {"application/json": {"model": PaymentResponse}},
        },
        **ERROR_RESPONSES,
    },
    tags=["payments"],
)
def create_payment(
    request: MonetixPaymentRequest, idempotency_key: IdempotencyKey
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
