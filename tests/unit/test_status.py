"""The state machine over every (from, to) pair, against the forward order of docs/lifecycle.md
written out here."""

from __future__ import annotations

import itertools

import pytest

from paygate.domain import PaymentStatus
from paygate.status import allowed_predecessors, can_transition

FORWARD_ORDER = ["created", "pending", "requires_confirmation", "requires_action", "processing"]
TERMINAL = {"succeeded", "failed", "cancelled", "expired", "needs_review"}
ALL = FORWARD_ORDER + sorted(TERMINAL)


def expected(current: str, target: str) -> bool:
    if current in TERMINAL:
        return False
    if target in TERMINAL:
        return True
    return FORWARD_ORDER.index(target) > FORWARD_ORDER.index(current)


def test_enum_has_exactly_the_design_statuses() -> None:
    assert {s.value for s in PaymentStatus} == set(ALL)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ALL, ALL)))
def test_every_pair(current: str, target: str) -> None:
    assert can_transition(PaymentStatus(current), PaymentStatus(target)) is expected(
        current, target
    )


def test_terminal_statuses_never_change() -> None:
    for terminal, target in itertools.product(TERMINAL, ALL):
        assert not can_transition(PaymentStatus(terminal), PaymentStatus(target))


def test_allowed_predecessors_of_succeeded_are_the_non_terminal_statuses() -> None:
    assert allowed_predecessors(PaymentStatus.SUCCEEDED) == {
        PaymentStatus(s) for s in FORWARD_ORDER
    }
    assert allowed_predecessors(PaymentStatus.CREATED) == frozenset()
