"""The deploys that move a live payments table to the sharded and narrow indexes
(`IndexMigrationStep`, docs/migration.md): DynamoDB adds or removes one GSI per table
update, so each step may change at most one; the table's attribute definitions are exactly
its keys' (CloudFormation refuses others); and at every step the indexes the code reads
exist."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from local.aws.template import Template, load_template
from paygate.domain import Kind, PaymentStatus
from paygate.listing import ListFilters, plan
from paygate.repository import PaymentRepository
from paygate.table_items import BY_PROVIDER_REFERENCE, BY_PROVIDER_REFERENCE_KEYS

STEPS = [str(step) for step in range(1, 13)]
# The GSIs of the release before (template.yaml before the sharded indexes).
PREVIOUS_RELEASE = {
    "by_provider_reference",
    "by_reconcile_due",
    "by_created",
    "by_reference",
    "by_status",
    "by_payment",
}


def at_step(step: str) -> Template:
    document = copy.deepcopy(load_template().document)
    document["Parameters"]["IndexMigrationStep"]["Default"] = step
    return Template(document)


def table(template: Template) -> dict[str, Any]:
    spec = template.of_type("AWS::DynamoDB::Table")["PaymentsTable"]["Properties"]
    return {
        key: template.resolved(spec[key])
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
    }


def indexes(step: str) -> set[str]:
    return {index["IndexName"] for index in table(at_step(step))["GlobalSecondaryIndexes"]}


def list_indexes(step: str, variable: str = "LIST_INDEXES") -> str:
    template = at_step(step)
    (function,) = [f for f in template.functions() if f.logical_id == "ListPaymentsFunction"]
    return str(function.environment[variable])


def test_each_deploy_adds_or_removes_at_most_one_index() -> None:
    before = PREVIOUS_RELEASE
    for step in STEPS:
        now = indexes(step)
        assert len(before ^ now) <= 1, (step, before ^ now)
        before = now


def test_the_last_step_is_the_default_and_keeps_no_legacy_index() -> None:
    assert at_step(STEPS[-1]).document == load_template().document
    assert indexes(STEPS[-1]) == {
        "by_provider_reference_keys",
        "by_due",
        "by_reference_keys",
        "by_created_shard",
        "by_status_shard",
        "by_payment",
    }
    projections = {
        index["IndexName"]: index["Projection"]["ProjectionType"]
        for index in table(at_step(STEPS[-1]))["GlobalSecondaryIndexes"]
    }
    assert "ALL" not in {p for name, p in projections.items() if name != "by_payment"}


@pytest.mark.parametrize("step", STEPS)
def test_attribute_definitions_are_exactly_the_keys_at_every_step(step: str) -> None:
    resolved = table(at_step(step))
    keys = {key["AttributeName"] for key in resolved["KeySchema"]}
    for index in resolved["GlobalSecondaryIndexes"]:
        keys |= {key["AttributeName"] for key in index["KeySchema"]}
    assert {a["AttributeName"] for a in resolved["AttributeDefinitions"]} == keys


@pytest.mark.parametrize("step", STEPS)
def test_the_lists_read_only_indexes_that_exist_and_are_backfilled(step: str) -> None:
    """Lists move to the sharded indexes only after both exist (and the backfill ran: step 3),
    and the legacy ones stay until nothing reads them; the dispatcher's by_due is always
    there."""
    mode = list_indexes(step)
    assert mode == ("legacy" if step in {"1", "2", "3"} else "sharded")
    references = list_indexes(step, "REFERENCE_INDEXES")
    assert references == ("wide" if int(step) < 10 else "narrow")
    reference_index = PaymentRepository("t", timedelta(days=1), None, references).reference_index
    read = {
        plan(Kind.PAYMENT, ListFilters(**filters), 20, mode, reference_index).index  # type: ignore[arg-type]
        for filters in ({}, {"status": PaymentStatus.PENDING}, {"merchant_reference": "x"})
    }
    read.add(BY_PROVIDER_REFERENCE_KEYS if references == "narrow" else BY_PROVIDER_REFERENCE)
    assert read <= indexes(step)
    assert "by_due" in indexes(step)
