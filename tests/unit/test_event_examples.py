"""The SNS event examples in events/sns/ are exactly the documented event: every field of
`StatusChanged`, nothing else, and they round-trip through the model unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paygate.domain import Cause, PaymentStatus
from paygate.events import StatusChanged

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "events" / "sns").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_each_example_is_the_published_event(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert set(document) == set(StatusChanged.model_fields)
    event = StatusChanged.model_validate(document)
    assert json.loads(event.model_dump_json()) == document


def test_the_review_example_carries_the_decision() -> None:
    (reviewed,) = [p for p in EXAMPLES if p.name == "status-changed-reviewed.json"]
    event = StatusChanged.model_validate_json(reviewed.read_text(encoding="utf-8"))
    assert (event.previous_status, event.status) == (
        PaymentStatus.NEEDS_REVIEW,
        PaymentStatus.SUCCEEDED,
    )
    assert event.cause is Cause.MERCHANT_ACTION and event.review is not None
    assert len(EXAMPLES) == 2
