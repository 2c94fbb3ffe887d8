"""POST /v1/paypro/payouts: a bank payout through Paypro; the result comes by notify."""

from paygate import routes, wiring
from paygate.api_requests import PayproPayoutRequest
from paygate.domain import Kind
from paygate.providers.paypro.gateway import WEBHOOK_PATH
from paygate.settings import PayproCheckoutSettings, load_settings

settings = load_settings(PayproCheckoutSettings)
gateway = wiring.paypro_checkout(settings)
app = routes.create(
    "/v1/paypro/payouts",
    PayproPayoutRequest,
    gateway,
    summary="Create a bank payout (Paypro)",
    created="Payout accepted (`processing`); Paypro's notify brings the result: "
    "poll GET /v1/payouts/{id}",
    kind=Kind.PAYOUT,
    notify=(settings.webhook_base_url, WEBHOOK_PATH),
)
lambda_handler = routes.handler(app)
