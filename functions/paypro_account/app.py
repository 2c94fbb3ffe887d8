"""GET /v1/paypro/balance (`queryBalance`) and GET /v1/paypro/banks (the payout bank list)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.observability import logger, metrics
from paygate.providers.paypro.gateway import BalanceResponse, PayoutBankList, payout_bank_list
from paygate.settings import PayproCheckoutSettings, load_settings

settings = load_settings(PayproCheckoutSettings)
gateway = wiring.paypro_checkout(settings)
app = create_resolver()


@app.get(
    "/v1/paypro/balance",
    summary="The merchant's Paypro balance",
    responses={**ERROR_RESPONSES},
    tags=["payouts"],
)
def paypro_balance() -> BalanceResponse:
    return gateway.balance()


@app.get(
    "/v1/paypro/banks",
    summary="Banks a Paypro payout may name in bank_name",
    responses={**ERROR_RESPONSES},
    tags=["banks"],
)
def paypro_banks() -> PayoutBankList:
    return payout_bank_list()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
