"""Gate HTTP client shared by ecommpay and Monetix: signs each body (`general.signature`),
sends the exact bytes signed, and reads the synchronous answer, which only confirms receipt
and the request's correctness check (ecommpay's Vietnamese ATM guide, Purchase by using
Gate, step 5); results arrive by callback."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from paygate.errors import ProviderError
from paygate.providers import http
from paygate.providers.platform import signing
from paygate.providers.platform.banks import Bank, LiveList, Region
from paygate.providers.platform.credentials import PlatformCredentials
from paygate.providers.platform.wire import GateAnswer, StatusAnswer

PAYMENT_ID_EXISTS = "3041"


class BankEntry(BaseModel):
    """One bank (or region) of a live bank list (the answer's format is INFERRED: id, name)."""

    model_config = ConfigDict(extra="allow")

    id: int
    name: str | None = None


class PlatformClient(http.ProviderClient[PlatformCredentials]):
    def __init__(
        self,
        provider: str,
        gate_url: str,
        credentials: PlatformCredentials,
        client: httpx.Client,
        retries: int,
    ) -> None:
        self.provider = provider
        super().__init__(gate_url, credentials, client, retries)

    def _general(self, payment_id: str) -> dict[str, Any]:
        return {"project_id": self.credentials.project_id, "payment_id": payment_id}

    def _post(self, path: str, body: dict[str, Any]) -> tuple[httpx.Response, Any]:
        signed = signing.with_signature(body, self.credentials.secret_key.get_secret_value())
        raw = json.dumps(signed, separators=(",", ":"), ensure_ascii=False).encode()
        response = self._send(path, raw, {"Content-Type": "application/json"})
        try:
            return response, response.json()
        except ValueError as exc:
            raise http.unreadable(response, self.provider) from exc

    def _accepted(self, path: str, body: dict[str, Any]) -> GateAnswer:
        response, document = self._post(path, body)
        answer = _read(GateAnswer, document, self.provider)
        if response.is_success and answer.accepted:
            return answer
        if answer.code == PAYMENT_ID_EXISTS:
            # Our payment ids are unique: the platform already holds this very request (an
            # earlier attempt that answered 5xx went through). It is being processed.
            return answer.model_copy(update={"status": "success"})
        raise _refusal(self.provider, answer, response.status_code)

    def sale(self, path: str, payment_id: str, fields: dict[str, Any]) -> GateAnswer:
        """`POST <path>` (a `/v2/payment/.../sale`): accepted for processing, or a refusal."""
        return self._accepted(path, {"general": self._general(payment_id), **fields})

    def clarify(self, payment_id: str, fields: dict[str, Any]) -> GateAnswer:
        """`POST /v2/payment/clarification` with the fields the platform asked for."""
        body = {"general": self._general(payment_id), **fields}
        return self._accepted("/v2/payment/clarification", body)

    def status(self, payment_id: str) -> StatusAnswer:
        """`POST /v2/payment/status`: the platform's current view of the payment."""
        response, document = self._post(
            "/v2/payment/status", {"general": self._general(payment_id)}
        )
        if not response.is_success:
            raise _refusal(
                self.provider, _read(GateAnswer, document, self.provider), response.status_code
            )
        return _read(StatusAnswer, document, self.provider)

    def banks(self, path: str, amount: int, currency: str) -> LiveList:
        """`POST /v2/info/banks/.../list`: a bare list, or the list under `banks` (and the
        regions under `regions`, if the answer has them: the format is not documented)."""
        body = {
            "general": self._general("bank-list"),
            "payment": {"amount": amount, "currency": currency},
        }
        response, document = self._post(path, body)
        if not response.is_success:
            raise _refusal(
                self.provider, _read(GateAnswer, document, self.provider), response.status_code
            )
        rows = document.get("banks") if isinstance(document, dict) else document
        regions = document.get("regions") if isinstance(document, dict) else None
        try:
            return LiveList(
                banks=tuple(_bank(BankEntry.model_validate(row)) for row in rows or []),
                regions=None if regions is None else [_region(row) for row in regions],
            )
        except (ValidationError, TypeError) as exc:
            raise ProviderError(f"{self.provider} answered an unreadable bank list") from exc


def _bank(entry: BankEntry) -> Bank:
    return Bank(id=entry.id, name=entry.name or str(entry.id), purchase=None, payout=None)


def _region(row: Any) -> Region:
    entry = BankEntry.model_validate(row)
    return Region(id=entry.id, name=entry.name or str(entry.id))


def _read[M: BaseModel](model: type[M], document: Any, provider: str) -> M:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ProviderError(f"{provider} answered an unreadable body", definitive=False) from exc


def _refusal(provider: str, answer: GateAnswer, status_code: int) -> ProviderError:
    code = answer.code or str(status_code)
    message = answer.message or "request refused"
    return ProviderError(
        f"{provider} refused the request (code {code}: {message})",
        provider_code=code,
        provider_message=answer.message,
        definitive=400 <= status_code < 500,
    )
