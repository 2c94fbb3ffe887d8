"""Reconciliation lag at the target load (5,000,000 payments a day, a 3x peak), simulated on
the real settle code (`paygate.reconcile.Reconciler`, the ledger, the lifecycle policy) and a
simulated clock (bench/reconcile_lag.py says what is modelled): providers answering in
0.3 - 1 s, Smart Glocal silent for 10 minutes. The sample runs at 1/100 of the load with
1/100 of the workers (fewer, busier workers wait longer: the sample errs on the slow side);
docs/performance.md gives the 1/50 figures of `make bench`.

Each check also runs where it must fail: today's sequential loop misses the lag target, and one
queue shared by every provider lets the silent one delay the others."""

from __future__ import annotations

from typing import Any

import pytest

from bench.reconcile_lag import Scenario, simulate
from paygate.observability import logger

SAMPLE = Scenario(scale=1 / 100)
TARGET_P99_SECONDS = 120.0
# How much later a healthy provider's payments may be settled while another is silent.
NOISE_SECONDS = 2.0


@pytest.fixture(autouse=True)
def quiet() -> Any:
    level = logger.log_level
    logger.setLevel("ERROR")  # thousands of "status query failed" while the provider is down
    yield
    logger.setLevel(level)


@pytest.mark.parametrize(
    ("engine", "meets_target"),
    [("fanout", True), ("today", False)],
    ids=["fan-out", "today's loop (must miss)"],
)
def test_lag_p99_at_the_target_load_with_a_provider_down(engine: str, meets_target: bool) -> None:
    result = simulate(engine, SAMPLE)
    assert result["settled"] > 5_000
    if meets_target:
        assert result["lag_p99_s"] < TARGET_P99_SECONDS, result
    else:  # one query after another, 100 a minute: far behind within the hour
        assert result["lag_p99_s"] > TARGET_P99_SECONDS, result


@pytest.mark.parametrize(
    ("engine", "isolated"),
    [("fanout", True), ("shared", False)],
    ids=["one queue per provider", "one queue for all (must fail)"],
)
def test_a_silent_provider_delays_only_its_own_payments(engine: str, isolated: bool) -> None:
    """With the functions' default timeouts (13 s per silent query) the outage bites hard; the
    healthy providers' lag during it stays what it is outside it only with a queue each."""
    result = simulate(engine, Scenario(scale=1 / 100, timeout=13.0))
    during = result["healthy_during_outage_p99_s"]
    outside = result["healthy_outside_outage_p99_s"]
    delayed = {p: during[p] - outside[p] for p in during if during[p] > outside[p] + NOISE_SECONDS}
    if isolated:
        assert not delayed, result
    else:
        assert set(delayed) == {"paypro", "ecommpay", "monetix"}, result
