"""The API's Lambda REQUEST authorizer (`functions/authorize_key`): API Gateway hands it the
`x-api-key` header, and it answers with an IAM policy and the principal
(`paygate.api_keys.Authorizer.decide`):

- a merchant key or a client secret: Allow on the API's routes, the principal in `context`
  (API Gateway passes it on in `requestContext.authorizer`; `paygate.access` enforces scopes);
- anything else (unknown, revoked, malformed): Deny, which API Gateway answers with 403, the
  `ACCESS_DENIED` gateway response naming `x-api-key`. A request without the header never
  reaches the function: API Gateway answers 401 (`UNAUTHORIZED`).

API Gateway caches the answer per header value for the authorizer's TTL (template.yaml,
`ReauthorizeEvery`): a revocation takes effect within it (docs/security.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import deadline
from paygate.api_keys import HEADER, REVOKED, Authorizer, Principal
from paygate.observability import logger
from paygate.startup import ready


def handler(authorizer: Authorizer) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point around `authorizer`."""

    @logger.inject_lambda_context
    @event_source(data_class=APIGatewayAuthorizerRequestEvent)
    def lambda_handler(
        event: APIGatewayAuthorizerRequestEvent, context: LambdaContext
    ) -> dict[str, Any]:
        deadline.start(context)
        decision = authorizer.decide(event.headers.get(HEADER))
        allowed = decision if isinstance(decision, Principal) else None
        arn = event.parsed_arn
        answer = APIGatewayAuthorizerResponse(
            principal_id=allowed.principal_id if allowed else "refused",
            region=arn.region,
            aws_account_id=arn.aws_account_id,
            api_id=arn.api_id,
            stage=arn.stage,
            context=allowed.context() if allowed else None,
            partition=arn.partition,
        )
        if allowed is None:
            refused = "revoked" if decision == REVOKED else "unknown or malformed"
            logger.info(f"x-api-key refused: {refused}")
            answer.deny_all_routes()
        else:
            logger.info("x-api-key accepted", extra={"principal": allowed.principal_id})
            answer.allow_all_routes()
        return answer.asdict()

    ready()
    return lambda_handler
