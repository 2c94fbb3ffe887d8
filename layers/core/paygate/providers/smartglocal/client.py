"""Smart Glocal session API client: serialises each body once, signs those bytes, sends those
bytes; reads the `{"status": "ok" | "error"}` envelope (Smart Glocal's API reference,
"Request format" and "Errors")."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, SecretStr

from paygate.errors import ProviderError
from paygate.providers import http
from paygate.providers.smartglocal import signing
from paygate.providers.smartglocal.transformers import Envelope, Session

PROVIDER = "smartglocal"
API_PREFIX = "/api/v1"
# Reusing an idempotency key is refused with this code (Bank 131's PHP SDK,
# `IdempotencyKeyAlreadyExistsException`): the
# first request may well have been accepted, so the outcome is not definitive.
IDEMPOTENCY_KEY_REUSED = "idempotency_key_already_exists"


class SmartglocalCredentials(BaseModel):
    """The provider secret's JSON: project, our private key, Smart Glocal's public key(s)."""

    project: str
    private_key_pem: SecretStr
    provider_public_key_pem: str = ""
    provider_public_key_previous_pem: str = ""

    def verification_keys(self) -> list[str]:
        """Smart Glocal's active public keys (two during a rotation)."""
        keys = (self.provider_public_key_pem, self.provider_public_key_previous_pem)
        return [key for key in keys if key.strip()]


def encode(document: dict[str, Any]) -> bytes:
    """The one serialisation of a request body (compact UTF-8 JSON)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class SmartglocalClient(http.ProviderClient[SmartglocalCredentials]):
    provider = PROVIDER

    def init_payment(self, fields: dict[str, Any], idempotency_key: str) -> Session:
        """`session/init/payment`: create the session and start the payment in one call."""
        return self._call("session/init/payment", fields, idempotency_key)

    def create_session(self, fields: dict[str, Any], idempotency_key: str) -> Session:
        """`session/create` (the two-step path's first call)."""
        return self._call("session/create", fields, idempotency_key)

    def start_payment(
        self, session_id: str, fields: dict[str, Any], idempotency_key: str
    ) -> Session:
        """`session/start/payment` for a session made by `create_session`."""
        return self._call(
            "session/start/payment", {"session_id": session_id, **fields}, idempotency_key
        )

    def confirm(self, session_id: str) -> Session:
        """`session/confirm`, after `ready_to_confirm`."""
        return self._call("session/confirm", {"session_id": session_id})

    def cancel(self, session_id: str) -> Session:
        """`session/cancel`, instead of confirming."""
        return self._call("session/cancel", {"session_id": session_id})

    def status(self, session_id: str) -> Session:
        """`session/status`: the session with all its operations (polling, reconciliation)."""
        return self._call("session/status", {"session_id": session_id})

    def _call(
        self, method: str, document: dict[str, Any], idempotency_key: str | None = None
    ) -> Session:
        body = encode(document)
        headers = {
            "Content-Type": "application/json",
            signing.PROJECT_HEADER: self.credentials.project,
            signing.SIGN_HEADER: signing.sign(
                body, self.credentials.private_key_pem.get_secret_value()
            ),
        }
        if idempotency_key:
            headers[signing.IDEMPOTENCY_HEADER] = idempotency_key
        response = self._send(f"{API_PREFIX}/{method}", body, headers)
        envelope = http.read_answer(Envelope, response, PROVIDER)
        if envelope.ok and envelope.session is not None and response.is_success:
            return envelope.session
        error = envelope.error
        code = (error.code if error else None) or f"http_{response.status_code}"
        description = error.description if error else None
        raise ProviderError(
            f"Smart Glocal refused {method} ({code}{': ' + description if description else ''})",
            provider_code=code,
            provider_message=description,
            definitive=code != IDEMPOTENCY_KEY_REUSED,
        )
