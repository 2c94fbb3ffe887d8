"""POST /v1/ecommpay/payouts: pay out to a NAPAS ATM card or a Nganluong wallet through Gate.
The card goes to ecommpay only; the payout keeps its masked form."""

from paygate import routes, wiring
from paygate.api_requests import EcommpayPayoutRequest
from paygate.domain import Kind
from paygate.settings import EcommpaySettings, load_settings

gateway = wiring.ecommpay(load_settings(EcommpaySettings))
app = routes.create(
    "/v1/ecommpay/payouts",
    EcommpayPayoutRequest,
    gateway,
    summary="Create a NAPAS ATM card or Nganluong wallet payout (ecommpay)",
    created="Payout accepted (`processing`); the result arrives by callback: "
    "poll GET /v1/payouts/{id}",
    kind=Kind.PAYOUT,
)
lambda_handler = routes.handler(app)
