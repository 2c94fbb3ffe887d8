"""A provider's reconcile queue (SQS event source mapping, one per provider): claim each
message's leased payment, query its provider, apply what it says and settle the rest by the
lifecycle policy (docs/lifecycle.md); failed messages are partial batch failures."""

from paygate import triggers, wiring
from paygate.settings import ReconcileSettings, load_settings

settings = load_settings(ReconcileSettings)
lambda_handler = triggers.reconcile_queue(wiring.reconcile_worker(settings))
