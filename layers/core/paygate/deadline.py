"""One time budget per invocation: every provider call and storage retry of this invocation ends
before Lambda's remaining time minus a safety margin (`DEADLINE_MARGIN_SECONDS`, default 3).

`start(context)` is called once per invocation (the API resolver and the scheduled jobs do it);
`remaining()` is what is left of the budget, None outside an invocation (no budget set)."""

from __future__ import annotations

import os
import time
from contextvars import ContextVar
from typing import Protocol

DEFAULT_MARGIN_SECONDS = 3.0
_ends_at: ContextVar[float | None] = ContextVar("paygate_deadline", default=None)


class _Context(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def margin_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("DEADLINE_MARGIN_SECONDS", DEFAULT_MARGIN_SECONDS)))
    except ValueError:
        return DEFAULT_MARGIN_SECONDS


def start(context: _Context | None) -> None:
    """Start this invocation's budget from the Lambda context (no context: no budget)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:
        _ends_at.set(None)
        return
    _ends_at.set(time.monotonic() + getter() / 1000 - margin_seconds())


def set_budget(seconds: float | None) -> None:
    """Set the budget directly (tests and tools)."""
    _ends_at.set(None if seconds is None else time.monotonic() + seconds)


def remaining() -> float | None:
    """Seconds left (may be negative), or None when no budget is set."""
    ends_at = _ends_at.get()
    return None if ends_at is None else ends_at - time.monotonic()


def allows(seconds: float) -> bool:
    """True when `seconds` more still fit in the budget."""
    left = remaining()
    return left is None or left >= seconds
