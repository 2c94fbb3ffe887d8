"""The one place that creates Powertools Logger and Metrics; everything imports these.

No tracer lives in the process: Lambda active tracing (template `Tracing: Active`) records
each invocation, the Logger stamps every line with the correlation id and the X-Ray trace id
Lambda hands over (`_X_AMZN_TRACE_ID`), and Metrics writes EMF. In-process spans (DynamoDB,
SNS, provider HTTP) are the template's `InProcessTracing=opentelemetry` option: the AWS
Distro for OpenTelemetry layer instruments botocore and httpx from outside this code, so
nothing here imports a tracing SDK (the X-Ray SDK cost 110-170 ms of every cold start).
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from paygate import snapstart
from paygate.masking import erase

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "paygate")


def _masked_json(record: Any) -> str:
    """Every log line goes through the same erasure as stored raw webhooks (card fields,
    secrets, signatures, documents): one masking mechanism for logs and stores."""
    return json.dumps(erase(record), default=str, separators=(",", ":"), ensure_ascii=False)


logger = Logger(service=SERVICE, json_serializer=_masked_json)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Paygate")
)
# Every function imports this module, so every function gets the SnapStart restore hook
# (registered only where the runtime has the hooks library; see paygate.snapstart).
snapstart.install()
