"""Function settings: environment variables as pydantic models, validated at cold start.

Each function declares only the variables it uses (field alias = variable name).
"""

from __future__ import annotations

import os
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NonEmpty = Annotated[str, Field(min_length=1)]


class _Env(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class TableSettings(_Env):
    payments_table: NonEmpty = Field(alias="PAYMENTS_TABLE")
    webhook_retention_days: int = Field(default=90, alias="WEBHOOK_RETENTION_DAYS", ge=1)


class PayproSettings(TableSettings):
    paypro_secret_id: NonEmpty = Field(alias="PAYPRO_SECRET_ID")


class PayproCheckoutSettings(PayproSettings):
    paypro_base_url: NonEmpty = Field(alias="PAYPRO_BASE_URL")
    webhook_base_url: str = Field(default="", alias="WEBHOOK_BASE_URL")
    provider_connect_timeout: float = Field(default=3.0, alias="PROVIDER_CONNECT_TIMEOUT", gt=0)
    provider_read_timeout: float = Field(default=10.0, alias="PROVIDER_READ_TIMEOUT", gt=0)
    provider_retries: int = Field(default=2, alias="PROVIDER_RETRIES", ge=0, le=5)


class PublisherSettings(_Env):
    status_topic_arn: NonEmpty = Field(alias="STATUS_TOPIC_ARN")


S = TypeVar("S", bound=_Env)


class SettingsError(RuntimeError):
    """A function started with missing or invalid environment variables."""


def load_settings(model: type[S]) -> S:
    """Read `model` from the environment; fail fast, naming every bad variable."""
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        names = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise SettingsError(f"invalid or missing environment variables: {names}") from exc
