"""The one place that creates Powertools Logger, Tracer and Metrics; everything imports these."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from paygate.masking import erase

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "paygate")


def _masked_json(record: Any) -> str:
    """Every log line goes through the same erasure as stored raw webhooks (card fields,
    secrets, signatures, documents): one masking mechanism for logs and stores."""
    return json.dumps(erase(record), default=str, separators=(",", ":"), ensure_ascii=False)


logger = Logger(service=SERVICE, json_serializer=_masked_json)
# Patch only what we call (AWS SDK and provider HTTP); patching every supported library
# imports all of X-Ray's integrations at cold start.
tracer = Tracer(service=SERVICE, patch_modules=("botocore", "httpx"))
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Paygate")
)
