"""POST /webhooks/monetix: verify the callback's signature, store it once, apply it to the
payment named by `payment.id`, answer 200 (the platform retries anything else)."""

from paygate import routes, wiring
from paygate.settings import MonetixSettings, load_settings

gateway = wiring.monetix(load_settings(MonetixSettings))
app = routes.webhook(
    "/webhooks/monetix",
    gateway,
    summary="monetix callback",
)
lambda_handler = routes.handler(app)
