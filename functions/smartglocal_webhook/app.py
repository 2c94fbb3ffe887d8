"""POST /webhooks/smartglocal: verify X-PARTNER-SIGN over the raw body, store the webhook once,
apply it (auto-confirming when the payment asked for it), answer 200."""

from paygate import routes, wiring
from paygate.providers.smartglocal.gateway import WEBHOOK_PATH
from paygate.settings import SmartglocalSettings, load_settings

gateway = wiring.smartglocal(load_settings(SmartglocalSettings))
app = routes.webhook(
    WEBHOOK_PATH,
    gateway,
    summary="Smart Glocal webhook",
    noun="webhook",
)
lambda_handler = routes.handler(app)
