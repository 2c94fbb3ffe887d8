"""Provider credentials from AWS Secrets Manager, cached by Powertools Parameters."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel

SECRET_MAX_AGE_SECONDS = 300


def load_credentials[C: BaseModel](secret_id: str, model: type[C]) -> C:
    """The provider secret (a JSON document) parsed into `model`; cached for five minutes."""
    document = parameters.get_secret(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    return model.model_validate(document)
