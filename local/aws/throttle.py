"""API Gateway's stage throttle, for the local front door: a token bucket per route (method
and path template), `rate` tokens a second up to `burst`. Off unless asked for
(`PAYGATE_THROTTLE=<rate>,<burst>`): `make run` serves every request, as a developer wants; a
test turns it on to see the template's THROTTLED answer (429 with Retry-After)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Throttle:
    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str) -> bool:
        """One request on `key`: True when its bucket had a token (taken), False: throttled."""
        with self._lock:
            now = self.clock()
            tokens, since = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - since) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            return allowed

    @classmethod
    def from_setting(cls, text: str) -> Throttle | None:
        """`"<rate>,<burst>"` (e.g. `"50,100"`, the template's default), or None when empty."""
        if not text.strip():
            return None
        rate, _, burst = text.partition(",")
        throttle = cls(rate=float(rate), burst=float(burst or rate))
        if throttle.rate < 0 or throttle.burst < 1:
            raise ValueError(f"PAYGATE_THROTTLE must be '<rate>,<burst>' with burst >= 1: {text!r}")
        return throttle
