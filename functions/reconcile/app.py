"""Scheduled (EventBridge): query the providers about payments and payouts that are due for a
status check (sparse index), apply what they say, settle the rest by the lifecycle policy
(docs/lifecycle.md). Returns the report, with `next_due_at` (the local runtime uses it to skip
idle ticks when it moves its clock; EventBridge ignores it)."""

from paygate import triggers, wiring
from paygate.settings import ReconcileSettings, load_settings

settings = load_settings(ReconcileSettings)
lambda_handler = triggers.reconcile_schedule(wiring.reconciler(settings), settings.reconcile_batch)
