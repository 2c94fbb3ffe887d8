"""GET /v1/ecommpay/banks and /v1/monetix/banks: the banks a method supports for purchases or
payouts (ATM: ecommpay's live list, the docs' table when it cannot answer; payouts also list
the regions)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from paygate import routes, wiring
from paygate.api_keys import Scope
from paygate.domain import Method, Operation, Provider
from paygate.providers.platform.banks import BankList
from paygate.settings import PlatformActionSettings, load_settings

BANK_SCOPES = (Scope.PAYMENTS_READ, Scope.PAYOUTS_WRITE)  # purchases or payouts

gateways = wiring.platform_gateways(load_settings(PlatformActionSettings))
MethodQuery = Annotated[Method, Query()]
OperationQuery = Annotated[Operation, Query(description="`sale` (purchases) or `payout`")]


def ecommpay_banks(
    method: MethodQuery = Method.NAPAS_ATM, operation: OperationQuery = Operation.SALE
) -> BankList:
    return gateways.bank_list(Provider.ECOMMPAY, method, operation)


def monetix_banks(
    method: MethodQuery = Method.BANK_TRANSFER, operation: OperationQuery = Operation.SALE
) -> BankList:
    return gateways.bank_list(Provider.MONETIX, method, operation)


app = routes.read(
    "/v1/ecommpay/banks",
    ecommpay_banks,
    summary="Banks for NAPAS ATM purchases or payouts (ecommpay)",
    tags=["banks"],
    scopes=BANK_SCOPES,
)
routes.read(
    "/v1/monetix/banks",
    monetix_banks,
    summary="Banks for Vietnamese bank transfers (Monetix, the docs' table)",
    tags=["banks"],
    scopes=BANK_SCOPES,
    app=app,
)
lambda_handler = routes.handler(app)
