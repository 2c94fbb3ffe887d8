"""Runs the template's `Schedule` functions locally (EventBridge's part), every `seconds` or
`PAYGATE_SCHEDULE_SECONDS` when set, with an EventBridge scheduled event."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.apigw import FakeLambdaContext
from local.template import Schedule

Handler = Callable[[dict[str, Any], Any], Any]


def scheduled_event(function_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "ap-southeast-1",
        "resources": [f"arn:aws:events:ap-southeast-1:123456789012:rule/{function_id}"],
        "detail": {},
    }


class Scheduler:
    """One daemon thread per schedule; `stop()` ends them."""

    def __init__(self, schedule: Schedule, handler: Handler, seconds: float | None = None):
        self.schedule = schedule
        self.handler = handler
        self.seconds = seconds or schedule.seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"schedule-{schedule.function_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.handler(
                    scheduled_event(self.schedule.function_id),
                    FakeLambdaContext(self.schedule.function_id),
                )
            except Exception as exc:  # like Lambda: a failed run is logged, the next one runs
                print(f"[schedule] {self.schedule.function_id} failed: {exc!r}", file=sys.stderr)
