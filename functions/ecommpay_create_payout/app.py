"""POST /v1/ecommpay/payouts: pay out to a NAPAS ATM card or a Nganluong wallet through Gate.
The card goes to ecommpay only; the payout keeps its masked form."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.api_models import EcommpayPayoutRequest, PayoutResponse
from paygate.idempotency import IdempotencyKey, caller_scope
from paygate.observability import logger, metrics
from paygate.settings import EcommpaySettings, IdempotencySettings, load_settings

settings = load_settings(EcommpaySettings)
gateway = wiring.ecommpay(settings)
creates = wiring.idempotent_creates(load_settings(IdempotencySettings))
app = create_resolver()


@app.post(
    "/v1/ecommpay/payouts",
    summary="Create a NAPAS ATM card or Nganluong wallet payout (ecommpay)",
    responses={
        201: {
            "description": "Payout accepted (`processing`); the result arrives by callback: "
            "poll GET /v1/payouts/{id}",
            "content": {"application/json": {"model": PayoutResponse}},
        },
        **ERROR_RESPONSES,
    },
    tags=["payouts"],
)
def create_payout(request: EcommpayPayoutRequest, idempotency_key: IdempotencyKey) -> Response[str]:
    recorded = gateway.prepare_payout(request)  # checked; written with the idempotency record

    def create() -> Response[PayoutResponse]:
        payout = gateway.create_payout(request, recorded)
        metrics.add_metric(name="PayoutsCreated", unit=MetricUnit.Count, value=1)
        logger.info("payout created", extra={"payment_id": payout.id, "status": payout.status})
        return Response(201, content_types.APPLICATION_JSON, PayoutResponse.of(payout))

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
