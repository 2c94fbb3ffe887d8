"""The local front door's emulation of API Gateway's stage throttle: a token bucket per
route, on an injected clock."""

from __future__ import annotations

import pytest

from local.aws.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_route_gets_its_burst_then_its_rate() -> None:
    clock = Clock()
    throttle = Throttle(rate=2, burst=3, clock=clock)
    assert [throttle.take("GET /a") for _ in range(4)] == [True, True, True, False]
    assert throttle.take("GET /b")  # another route, another bucket
    clock.now = 0.5  # one token back at 2 a second
    assert [throttle.take("GET /a") for _ in range(2)] == [True, False]
    clock.now = 100  # never more than the burst
    assert [throttle.take("GET /a") for _ in range(4)] == [True, True, True, False]


def test_the_setting() -> None:
    assert Throttle.from_setting("") is None
    made = Throttle.from_setting("50,100")
    assert made is not None and (made.rate, made.burst) == (50, 100)
    with pytest.raises(ValueError, match="PAYGATE_THROTTLE"):
        Throttle.from_setting("5,0")
