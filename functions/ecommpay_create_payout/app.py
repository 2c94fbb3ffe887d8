"""POST /v1/ecommpay/payouts: pay out to a NAPAS ATM card or a Nganluong wallet through Gate.
The card goes to ecommpay only; the payout keeps its masked form."""

from paygate import routes, wiring
from paygate.api_models import EcommpayPayoutRequest
from paygate.domain import Kind
from paygate.settings import EcommpaySettings, IdempotencySettings, load_settings

gateway = wiring.ecommpay(load_settings(EcommpaySettings))
creates = wiring.idempotent_creates(load_settings(IdempotencySettings))
app = routes.create(
    "/v1/ecommpay/payouts",
    EcommpayPayoutRequest,
    creates,
    gateway.prepare_payout,
    gateway.create_payout,
    gateway.ledger.creation,
    summary="Create a NAPAS ATM card or Nganluong wallet payout (ecommpay)",
    created="Payout accepted (`processing`); the result arrives by callback: "
    "poll GET /v1/payouts/{id}",
    kind=Kind.PAYOUT,
)
lambda_handler = routes.handler(app)
