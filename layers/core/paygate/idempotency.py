"""Idempotent creates (`Idempotency-Key`), with Powertools idempotency and its DynamoDB
persistence: the first response for a key is kept 24 hours and answered again, marked
`Idempotent-Replayed: true`; the same key with another body is a 422; a duplicate arriving
while the first is still running is a 409 (safe to retry). Keys are scoped to the caller's
API key. Provider failures (502/504) are kept too: the payment they recorded is the answer,
so a retry never starts a second one at the provider.

"Another body" is judged by Powertools' payload hash, an unkeyed MD5 kept 24 hours: it covers
the body with every card number reduced to the 6+4 digits the payment keeps anyway and card
security codes left out (`compared`), so the hash tells nothing about a card beyond what is
stored (an MD5 of the full body, with those 6+4 digits, gives the number back in seconds). A
key reused with another card is still a 422, unless the two cards share their first 6 and
last 4 digits, holder and expiry: then the first answer is replayed (no second payment).

A payment create costs 4 DynamoDB calls (a payout create 3): Powertools' in-progress
idempotency record and the new payment are written in one transaction (`_RecordsThePayment`:
the persistence layer's own conditional put, sent as the first item of a `TransactWriteItems`
whose second item inserts the payment), then the payment with the provider's answer, then (a
payment's) the same order's other payments for the answer's `warnings` (one `by_reference`
Query), then the completed idempotency record. When the
key exists, the transaction is cancelled on the idempotency item alone: Powertools sees the
conditional failure it expects (with the old record) and replays or refuses as before, and the
payment is never written."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel

from paygate import aws_clients, snapstart
from paygate.api import error_response, from_domain_error
from paygate.api_errors import ErrorDetail
from paygate.errors import DuplicateReference, ProviderError, StorageBusy
from paygate.masking import mask_pan
from paygate.sessions import default_session
from paygate.settings import IdempotencySettings, load_settings

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255
IdempotencyKey = Annotated[
    str,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Required. A repeat within 24 hours answers the first response (200, "
        "`Idempotent-Replayed: true`); the same key with another body is a 422",
    ),
]


_payment_put: ContextVar[list[dict[str, Any]] | None] = ContextVar(
    "paygate_payment_put", default=None
)


class _RecordsThePayment:
    """The persistence layer's DynamoDB client: its in-progress put (the first `put_item` of a
    create) is sent together with the payment's own insert (and a payout's claim of its
    `merchant_reference`), in one transaction."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def put_item(self, **request: Any) -> Any:
        puts = _payment_put.get()
        if puts is None:
            return self._client.put_item(**request)
        _payment_put.set(None)
        items = [{"Put": request}, *({"Put": put} for put in puts)]
        try:
            return self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
                _refuse_a_held_reference(reasons, exc)
                raise
            refused: dict[str, Any] = {
                "Error": {"Code": "ConditionalCheckFailedException", "Message": "key exists"}
            }
            if "Item" in reasons[0]:
                refused["Item"] = reasons[0]["Item"]
            raise ClientError(refused, "PutItem") from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _refuse_a_held_reference(reasons: list[dict[str, Any]], exc: ClientError) -> None:
    """The reference claim (an item after the payment's insert) was refused: another payout
    holds the merchant reference; `DuplicateReference` names it (the claim's `ALL_OLD`)."""
    for reason in reasons[2:]:
        if reason.get("Code") == "ConditionalCheckFailed":
            item = reason.get("Item") or {}
            holder = (item.get("payout_id") or {}).get("S")
            reference = str((item.get("pk") or {}).get("S", "")).removeprefix("payout_ref#")
            raise DuplicateReference(reference, holder) from exc


@dataclass(frozen=True)
class Outcome:
    """What a create answered: status and JSON body."""

    status: int
    body: str


def _mark_replay(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "replayed": True}


class IdempotentCreates:
    """Runs a create once per (API key, Idempotency-Key)."""

    def __init__(self, table_name: str, persistence: DynamoDBPersistenceLayer | None = None):
        if persistence is None:  # the shared client configuration and deadline gate
            persistence = DynamoDBPersistenceLayer(
                table_name=table_name,
                boto_config=aws_clients.CONFIG,
                boto3_session=default_session(),
            )
            aws_clients.gated(persistence.client)
        self.persistence = persistence
        self.use_client(self.persistence.client)
        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=KEPT_SECONDS,
            response_hook=_mark_replay,
        )

    def use_client(self, client: Any) -> None:
        """Give the persistence layer `client` (a new one after a SnapStart restore), wrapped so
        that a create's in-progress record and payment insert stay one transaction."""
        raw = client._client if isinstance(client, _RecordsThePayment) else client
        self.persistence.client = _RecordsThePayment(raw)

    def respond(
        self,
        key: str,
        scope: str,
        body: BaseModel,
        context: LambdaContext | None,
        create: Callable[[], Response[Any]],
        record: dict[str, Any] | None = None,
        claims: Sequence[dict[str, Any]] = (),
    ) -> Response[str]:
        """The create's response, run at most once for this key; or the kept one. `record`:
        the new payment's insert (`Ledger.creation`), written with the idempotency record;
        `claims`: conditional puts in the same transaction (a payout's reference claim: a
        refused claim answers 409 `duplicate_reference`, and nothing is written)."""
        if context is not None:
            self.config.register_lambda_context(context)
        _payment_put.set(None if record is None else [record, *claims])

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request", persistence_store=self.persistence, config=self.config
        )
        def once(request: dict[str, Any]) -> dict[str, Any]:
            try:
                response = create()
            except (ProviderError, StorageBusy) as error:
                # The payment is recorded and the provider may have acted on it: keep the
                # answer (it names the payment), so a retry never starts a second one.
                response = from_domain_error(error)
            kept = {"status": int(response.status_code), "body": _text(response.body)}
            retry_after = (response.headers or {}).get("Retry-After")
            return {**kept, "retry_after": retry_after} if retry_after else kept

        try:
            kept = once(request={"key": f"{scope}#{key}", "body": compared(body)})
        except IdempotencyValidationError:
            reused = f"this {HEADER} was used with a different request body"
            return _key_error(HTTPStatus.UNPROCESSABLE_ENTITY, "idempotency_key_reused", reused)
        except IdempotencyPersistenceLayerError as error:  # e.g. throttled: nothing written
            if isinstance(error.__cause__, DuplicateReference):
                return from_domain_error(error.__cause__)
            busy = StorageBusy(f"the idempotency store is busy ({error}); nothing was written")
            return from_domain_error(busy)
        except IdempotencyAlreadyInProgressError:
            running = f"a request with this {HEADER} is still running; retry shortly"
            return _key_error(HTTPStatus.CONFLICT, "idempotency_in_progress", running)
        finally:
            _payment_put.set(None)  # whatever happened, no later put carries this payment
        replayed = bool(kept.get("replayed"))
        status = kept["status"]
        if replayed and status == HTTPStatus.CREATED:
            status = HTTPStatus.OK
        headers_out = {REPLAYED_HEADER: "true"} if replayed else {}
        if kept.get("retry_after"):
            headers_out["Retry-After"] = str(kept["retry_after"])
        return Response(status, content_types.APPLICATION_JSON, kept["body"], headers_out)


CARD_NUMBERS = frozenset({"pan", "card_number"})
CARD_CODES = frozenset({"cvv", "cvc", "cvv2", "cvc2"})


def compared(body: BaseModel) -> Any:
    """What the payload hash covers: the body as JSON, every card number (a `pan` or
    `card_number` field, or a dotted `card.pan` key) masked to its 6+4 digits and every card
    security code left out, wherever it is nested."""
    return _without_card_secrets(body.model_dump(mode="json"))


def _without_card_secrets(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_card_secrets(item) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key).lower().rsplit(".", 1)[-1]
        if name in CARD_CODES:
            continue
        kept[key] = mask_pan(str(item)) if name in CARD_NUMBERS else _without_card_secrets(item)
    return kept


def _key_error(status: HTTPStatus, code: str, message: str) -> Response[str]:
    """An error about the request's `Idempotency-Key`."""
    return error_response(status, ErrorDetail(code=code, message=message, field=HEADER))


def _text(body: Any) -> str:
    if isinstance(body, BaseModel):
        return body.model_dump_json()
    return body if isinstance(body, str) else str(body)


def caller_scope(request_context: Any) -> str:
    """Whose keys these are: the API key's id in API Gateway (its value locally)."""
    identity = getattr(request_context, "identity", None)
    return str(
        getattr(identity, "api_key_id", None) or getattr(identity, "api_key", None) or "anonymous"
    )


def restorable_creates(settings: IdempotencySettings | None = None) -> IdempotentCreates:
    """The function's idempotent creates (`settings`: by default from the environment), whose
    persistence gets a fresh boto3 client after a SnapStart restore."""
    creates = IdempotentCreates((settings or load_settings(IdempotencySettings)).idempotency_table)
    held = weakref.ref(creates)

    @snapstart.on_restore
    def fresh_client() -> None:
        alive = held()
        if alive is not None:
            fresh = snapstart.fresh_boto3_client(alive.persistence.client)
            alive.use_client(aws_clients.gated(fresh))

    return creates
