"""Provider credentials from AWS Secrets Manager, cached by Powertools Parameters."""

from __future__ import annotations

from typing import TypeVar

from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel

SECRET_MAX_AGE_SECONDS = 300

C = TypeVar("C", bound=BaseModel)


def load_credentials(secret_id: str, model: type[C]) -> C:
    """The provider secret (a JSON document) parsed into `model`; cached for five minutes."""
    document = parameters.get_secret(secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    return model.model_validate(document)
