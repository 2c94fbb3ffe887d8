"""Scheduled (EventBridge): query the providers about payments and payouts that are due for a
status check (sparse index), apply what they say, settle the rest by the lifecycle policy
(docs/lifecycle.md). Returns the report, with `next_due_at` (the local runtime uses it to skip
idle ticks when it moves its clock; EventBridge ignores it)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paygate import deadline, wiring
from paygate.observability import logger, metrics
from paygate.settings import ReconcileSettings, load_settings

settings = load_settings(ReconcileSettings)
reconciler = wiring.reconciler(settings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deadline.start(context)
    report = reconciler.run(settings.reconcile_batch)
    metrics.add_metric(name="ReconcileChecked", unit=MetricUnit.Count, value=report.checked)
    metrics.add_metric(name="ReconcileExpired", unit=MetricUnit.Count, value=report.expired)
    metrics.add_metric(name="ProviderSilent", unit=MetricUnit.Count, value=report.silent)
    metrics.add_metric(name="ReconcileErrors", unit=MetricUnit.Count, value=len(report.errors))
    return dict(report.__dict__)
