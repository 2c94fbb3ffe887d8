"""GET /v1/payments/{id} and /v1/payouts/{id}: a payment's or payout's current state
(merchant frontends poll these)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.api_models import PaymentResponse, PayoutResponse
from paygate.domain import Kind
from paygate.observability import logger, metrics
from paygate.settings import TableSettings, load_settings

settings = load_settings(TableSettings)
ledger = wiring.ledger(settings)
app = create_resolver()


@app.get(
    "/v1/payments/<id>",
    summary="Get a payment",
    responses={**ERROR_RESPONSES},
    tags=["payments"],
)
def get_payment(
    id: Annotated[str, Path(min_length=1, max_length=64, description="Our payment id")],  # noqa: A002
) -> PaymentResponse:
    return PaymentResponse.of(ledger.get(id, Kind.PAYMENT))


@app.get(
    "/v1/payouts/<id>",
    summary="Get a payout",
    responses={**ERROR_RESPONSES},
    tags=["payouts"],
)
def get_payout(
    id: Annotated[str, Path(min_length=1, max_length=64, description="Our payout id")],  # noqa: A002
) -> PayoutResponse:
    return PayoutResponse.of(ledger.get(id, Kind.PAYOUT))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
