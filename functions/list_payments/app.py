"""GET /v1/payments and /v1/payouts: find payments (or payouts) by the merchant's order id,
status, provider, method and creation time, newest first, a page at a time."""

from paygate import merchant_routes, routes, wiring
from paygate.domain import Kind
from paygate.settings import ListSettings, load_settings

lister = wiring.lister(load_settings(ListSettings))
app = merchant_routes.listing("/v1/payments", lister.page, summary="List and search payments")
merchant_routes.listing(
    "/v1/payouts", lister.page, summary="List and search payouts", kind=Kind.PAYOUT, app=app
)
lambda_handler = routes.handler(app)
