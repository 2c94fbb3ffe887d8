"""The ecommpay platform secret's JSON document. Apart from the HTTP client so that a function that
only verifies signatures (a webhook) does not import httpx at cold start."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from paygate.credentials import rotation_secrets


class PlatformCredentials(BaseModel):
    """The provider secret's JSON: project id and secret key(s) (two during rotation)."""

    project_id: int
    secret_key: SecretStr
    secret_key_previous: SecretStr | None = None

    def verification_secrets(self) -> list[str]:
        return rotation_secrets(self.secret_key, self.secret_key_previous)
