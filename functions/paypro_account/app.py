"""GET /v1/paypro/balance (`queryBalance`) and GET /v1/paypro/banks (the payout bank list)."""

from paygate import routes, wiring
from paygate.api_keys import Scope
from paygate.providers.paypro.gateway import payout_bank_list
from paygate.settings import PayproCheckoutSettings, load_settings

gateway = wiring.paypro_checkout(load_settings(PayproCheckoutSettings))
app = routes.read(
    "/v1/paypro/balance",
    gateway.balance,
    name="paypro_balance",
    summary="The merchant's Paypro balance",
    tags=["payouts"],
    scopes=(Scope.PAYOUTS_WRITE,),
)
routes.read(
    "/v1/paypro/banks",
    payout_bank_list,
    name="paypro_banks",
    summary="Banks a Paypro payout may name in bank_name",
    tags=["banks"],
    scopes=(Scope.PAYOUTS_WRITE,),
    app=app,
)
lambda_handler = routes.handler(app)
