"""GET /v1/ecommpay/banks and /v1/monetix/banks: the banks a method supports for purchases or
payouts (ATM: ecommpay's live list, the docs' table when it cannot answer; payouts also list
the regions)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import wiring
from paygate.api import ERROR_RESPONSES, create_resolver
from paygate.domain import Method, Operation
from paygate.errors import ValidationFailed
from paygate.observability import logger, metrics
from paygate.providers.platform.banks import BankList
from paygate.settings import PlatformActionSettings, load_settings

settings = load_settings(PlatformActionSettings)
gateways = wiring.platform_gateways(settings).gateways
app = create_resolver()

OperationQuery = Annotated[Operation, Query(description="`sale` (purchases) or `payout`")]


@app.get(
    "/v1/ecommpay/banks",
    summary="Banks for NAPAS ATM purchases or payouts (ecommpay)",
    responses={**ERROR_RESPONSES},
    tags=["banks"],
)
def ecommpay_banks(
    method: Annotated[Method, Query()] = Method.NAPAS_ATM,
    operation: OperationQuery = Operation.SALE,
) -> BankList:
    if method is not Method.NAPAS_ATM:
        raise ValidationFailed("method must be napas_atm for ecommpay bank lists", field="method")
    return next(g for p, g in gateways.items() if p.value == "ecommpay").bank_list(
        method, operation
    )


@app.get(
    "/v1/monetix/banks",
    summary="Banks for Vietnamese bank transfers (Monetix, the docs' table)",
    responses={**ERROR_RESPONSES},
    tags=["banks"],
)
def monetix_banks(
    method: Annotated[Method, Query()] = Method.BANK_TRANSFER,
    operation: OperationQuery = Operation.SALE,
) -> BankList:
    if method is not Method.BANK_TRANSFER or operation is not Operation.SALE:
        raise ValidationFailed(
            "Monetix lists banks for bank_transfer sales only", field="operation"
        )
    return next(g for p, g in gateways.items() if p.value == "monetix").bank_list(method, operation)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
