"""POST /webhooks/paypro: verify a Paypro notify, store it once, apply it, answer `OK`."""

from paygate import routes, wiring
from paygate.providers.paypro.gateway import WEBHOOK_PATH
from paygate.settings import PayproNotifySettings, load_settings

gateway = wiring.paypro_notifications(load_settings(PayproNotifySettings))
app = routes.webhook(
    WEBHOOK_PATH,
    gateway,
    summary="Paypro payment notify",
    noun="notify",
    name="paypro_notify",
)
lambda_handler = routes.handler(app)
