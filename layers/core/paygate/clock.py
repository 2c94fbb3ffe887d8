"""The gateway's one clock. In AWS it is the system clock (UTC); the local runtime replaces the
source with its simulated clock (`POST /_local/clock`), so functions, schedules and sandboxes
share one time. Nothing else may set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _system() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def use(source: Callable[[], datetime] | None) -> None:
    """Take the time from `source` (the local runtime and tests only); None: the system clock."""
    global _source
    _source = source or _system
