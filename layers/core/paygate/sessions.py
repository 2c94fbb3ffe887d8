"""One boto3 session per container. boto3's default session is the one `boto3.client()`
uses (the repository's DynamoDB client, the publisher's SNS client); Powertools makes a new
session for each of its own clients unless given one, and every new session loads the SDK's
endpoint and model data again (about 90 ms per client at cold start, measured by
`make bench`). The idempotency store and the secret provider use this one instead."""

from __future__ import annotations

from typing import Any

import boto3


def default_session() -> Any:
    """boto3's default session, created on first use as `boto3.client()` would."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION
