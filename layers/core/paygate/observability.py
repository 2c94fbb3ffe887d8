"""The one place that creates Powertools Logger, Tracer and Metrics; everything imports these."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "paygate")

logger = Logger(service=SERVICE)
# Patch only what we call (AWS SDK and provider HTTP); patching every supported library
# imports all of X-Ray's integrations at cold start.
tracer = Tracer(service=SERVICE, patch_modules=("botocore", "httpx"))
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Paygate")
)
