"""POST /webhooks/ecommpay: verify the callback's signature, store it once, apply it to the
payment named by `payment.id`, answer 200 (the platform retries anything else)."""

from paygate import routes, wiring
from paygate.settings import EcommpaySettings, load_settings

gateway = wiring.ecommpay(load_settings(EcommpaySettings))
app = routes.webhook(
    "/webhooks/ecommpay",
    gateway,
    summary="ecommpay callback",
)
lambda_handler = routes.handler(app)
