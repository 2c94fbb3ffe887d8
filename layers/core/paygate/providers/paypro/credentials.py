"""The Paypro secret's JSON document. Apart from the HTTP client so that a function that
only verifies signatures (a webhook) does not import httpx at cold start."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from paygate.credentials import rotation_secrets


class PayproCredentials(BaseModel):
    """The provider secret's JSON: merchant number and app secret(s) (two during rotation)."""

    merchant_no: str
    app_secret: SecretStr
    app_secret_previous: SecretStr | None = None

    def verification_secrets(self) -> list[str]:
        return rotation_secrets(self.app_secret, self.app_secret_previous)
