"""Scheduled (EventBridge, one run at a time): lease the payments due for a status query across
the schedule's shards and send each to its provider's reconcile queue (`paygate.dispatch`).
Returns the report; with `next_due_at` when nothing was due (the local runtime uses it to skip
idle ticks when it moves its clock; EventBridge ignores it)."""

from paygate import triggers, wiring
from paygate.settings import DispatchSettings, load_settings

settings = load_settings(DispatchSettings)
lambda_handler = triggers.reconcile_dispatch(wiring.dispatcher(settings), settings.dispatch_limit)
