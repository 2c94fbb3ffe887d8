"""Provider credentials from AWS Secrets Manager, cached by Powertools Parameters."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from pydantic import BaseModel, SecretStr

from paygate import aws_clients
from paygate.sessions import default_session

SECRET_MAX_AGE_SECONDS = 300


def secrets_provider() -> parameters.SecretsProvider:
    """The provider `parameters.get_secret` uses, made on the shared session (it would make
    its own otherwise) with the shared client configuration and deadline gate (`aws_clients`)."""
    if "secrets" not in DEFAULT_PROVIDERS:
        client = aws_clients.client("secretsmanager", default_session())
        DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=client)
    provider: parameters.SecretsProvider = DEFAULT_PROVIDERS["secrets"]
    return provider


def load_credentials[C: BaseModel](secret_id: str, model: type[C]) -> C:
    """The provider secret (a JSON document) parsed into `model`; cached for five minutes."""
    secrets_provider()
    document = parameters.get_secret(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    return model.model_validate(document)


def rotation_secrets(current: SecretStr, previous: SecretStr | None) -> list[str]:
    """The secrets a signature may be made with: the current one, and the previous one while a
    rotation keeps it (set and not empty)."""
    kept = previous.get_secret_value() if previous else ""
    return [current.get_secret_value(), *([kept] if kept else [])]
