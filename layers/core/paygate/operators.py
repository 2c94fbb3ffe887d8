"""Operators: the people who sign in to the console (a Cognito user pool), as the operator
routes see them. API Gateway's Cognito authorizer verifies the ID token before any function
runs and hands its claims to the function in `requestContext.authorizer.claims`, every
value a string; `operator_of` reads them, `require_group` refuses a role the operator lacks.

Roles are the user pool's groups: `viewer` reads (lists, payouts, timelines), `reviewer`
also decides `needs_review` payments and payouts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from paygate.errors import NotAllowed, NotSignedIn

# How API Gateway (REST) passes a list claim: "a,b", "[a b]" or "[a, b]"; a single group: "a".
_GROUP_SEPARATORS = re.compile(r"[,\s]+")


class Group(StrEnum):
    """The user pool's groups (template.yaml `OperatorsViewerGroup` / `OperatorsReviewerGroup`)."""

    VIEWER = "viewer"
    REVIEWER = "reviewer"


class Operator(BaseModel):
    """A signed-in person: the user pool's user id (`sub`), email and groups."""

    user_id: str
    email: str | None = None
    groups: frozenset[str] = frozenset()

    def has(self, group: Group) -> bool:
        return group.value in self.groups


def groups_of(claim: Any) -> frozenset[str]:
    """The groups of a `cognito:groups` claim as API Gateway renders it (or a JSON list)."""
    if isinstance(claim, list | tuple):
        return frozenset(str(group) for group in claim if str(group))
    if not isinstance(claim, str):
        return frozenset()
    text = claim.strip().removeprefix("[").removesuffix("]")
    return frozenset(group for group in _GROUP_SEPARATORS.split(text) if group)


def operator_of(request_context: Any) -> Operator:
    """The operator of a request that API Gateway's Cognito authorizer let through (the
    claims of `requestContext.authorizer`); `NotSignedIn` when there are none."""
    authorizer = getattr(request_context, "authorizer", None)
    claims = getattr(authorizer, "claims", None)
    if not isinstance(claims, Mapping) or not str(claims.get("sub") or ""):
        raise NotSignedIn(
            "sign in as an operator: send the ID token of the console's sign-in in the "
            "Authorization header",
            field="Authorization",
        )
    email = claims.get("email")
    return Operator(
        user_id=str(claims["sub"]),
        email=str(email) if email else None,
        groups=groups_of(claims.get("cognito:groups")),
    )


def require_group(operator: Operator, *groups: Group) -> Operator:
    """`operator` when it is in one of `groups`, else `NotAllowed` (403) naming them."""
    if not any(operator.has(group) for group in groups):
        named = " or ".join(repr(group.value) for group in groups)
        raise NotAllowed(
            f"this needs the operator group {named}; "
            f"ask an administrator to add {operator.email or operator.user_id} to it",
            field="Authorization",
        )
    return operator


READERS = (Group.VIEWER, Group.REVIEWER)
