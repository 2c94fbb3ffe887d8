"""The API's Lambda REQUEST authorizer: who the `x-api-key` header says the caller is (a
merchant key with scopes, or a payment's client secret)."""

from paygate import authorizer, wiring
from paygate.settings import AuthorizerSettings, load_settings

lambda_handler = authorizer.handler(wiring.key_authorizer(load_settings(AuthorizerSettings)))
